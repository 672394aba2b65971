import { filterFields, hasFilter, parseFilter, type BulkAction, type TaskOperations } from '../../operations/index.ts';
import { bulkActions } from '../../results/bulk.ts';
import { HttpError, redirect, type Handler, type Router } from '../http.ts';
import { bulkConfirmPage, filterQuery } from './bulk-page.ts';
import { back, readActionForm } from './forms.ts';
import type { Html } from './html.ts';

const past: Record<BulkAction, string> = { retry: 'Retried', revoke: 'Revoked', purge: 'Purged' };

/**
 * A filtered task list's bulk actions: `/bulk/<action>` counts what the action would take and
 * asks to confirm; the form's post does it and returns to the list, saying how many it took.
 */
export function bulkRoutes(router: Router, operations: TaskOperations, page: (title: string, render: (url: URL, params: Record<string, string>) => Promise<Html>) => Handler): void {
  router
    .on('GET', '/bulk/:action', page('Act on every matching task', async (url, params) => {
      const action = actionOf(params.action!);
      const filter = filterOf(url.searchParams);
      return bulkConfirmPage(action, filter, await operations.bulk(action, filter, { dryRun: true }));
    }))
    .on('POST', '/actions/bulk/:action', async (request, response, params) => {
      const action = actionOf(params.action!);
      const form = await readActionForm(request);
      const filter = filterOf(form);
      if (action === 'purge' && form.get('confirm') !== 'yes') return redirect(response, `/bulk/purge?${filterQuery(filter)}&error=${encodeURIComponent('Tick the box to confirm the purge')}`);
      const outcome = await operations.bulk(action, filter, action === 'revoke' ? { reason: form.get('reason') || 'revoked from the dashboard' } : {});
      const left = outcome.skipped.length > 0 ? `; ${outcome.skipped.length} left as they were (${outcome.skipped[0]!.id}: ${outcome.skipped[0]!.reason})` : '';
      redirect(response, back(`/tasks?${filterQuery(filter)}`, `${past[action]} ${outcome.affected} of ${outcome.matched} matching task${outcome.matched === 1 ? '' : 's'}${left}`));
    });
}

function actionOf(text: string): BulkAction {
  if (!(bulkActions as readonly string[]).includes(text)) throw new HttpError(404, `no bulk action ${text.slice(0, 100)}; they are ${bulkActions.join(', ')}`);
  return text as BulkAction;
}

/** A bulk action's filter: at least one field, so no click acts on every task there is. */
function filterOf(fields: URLSearchParams) {
  const input = Object.fromEntries(filterFields.map((field) => [field, fields.get(field) ?? undefined]));
  if (!hasFilter(input)) throw new HttpError(400, 'filter the list first: a bulk action takes the tasks a filter matches');
  return parseFilter(input);
}
