import { filterFields, type BulkAction, type BulkOutcome } from '../../operations/index.ts';
import { actionStatuses, bulkActions } from '../../results/bulk.ts';
import type { HistoryFilter } from '../../results/filter.ts';
import { formToken } from '../guard.ts';
import { html, type Html } from './html.ts';

const verb: Record<BulkAction, string> = { retry: 'Retry', revoke: 'Revoke', purge: 'Purge' };

const what: Record<BulkAction, string> = {
  retry: 'Each is sent again under its id with a fresh retry budget, and shows PENDING until a consumer picks it up.',
  revoke: 'A task waiting in its queue is acknowledged without running when it is picked up; a running one gets its abort signal within 5 s.',
  purge: 'Their records and attempts are deleted, with what they kept in the results bucket. A task that is not finished is never purged.',
};

/** The filter as a query string, for links and redirects that keep the list as it was. */
export function filterQuery(filter: HistoryFilter): string {
  return new URLSearchParams(filterFields.flatMap((field): [string, string][] => (filter[field] ? [[field, filter[field]]] : []))).toString();
}

/** Under a filtered list: each action with the number of tasks it would take, leading to its confirmation. */
export function bulkBar(filter: HistoryFilter, counts: Readonly<Record<BulkAction, number>>): Html {
  const query = filterQuery(filter);
  return html`<section aria-labelledby="bulk-heading">
  <h2 id="bulk-heading">Every matching task</h2>
  <p>${bulkActions.map((action) => counts[action] > 0
    ? html`<a class="button" href="/bulk/${action}?${query}">${verb[action]} ${counts[action]} matching</a> `
    : html`<span class="muted">nothing to ${action}</span> `)}</p>
</section>`;
}

/** What an action would take, counted first (a dry run), and the form that does it. */
export function bulkConfirmPage(action: BulkAction, filter: HistoryFilter, dry: BulkOutcome): Html {
  const list = `/tasks?${filterQuery(filter)}`;
  const tasks = `${dry.matched} task${dry.matched === 1 ? '' : 's'}`;
  return html`
<p>${tasks} in ${actionStatuses[action].join(', ')} match ${filterFields.filter((field) => filter[field]).map((field) => `${field} ${filter[field]}`).join(', ')}. ${what[action]}</p>
${dry.examples.length > 0 ? html`<table>
  <thead><tr><th scope="col">Id</th><th scope="col">Task</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
  <tbody>${dry.examples.map((t) => html`<tr><td><a href="/tasks/${encodeURIComponent(t.id)}">${t.id}</a></td><td>${t.name}</td><td>${t.status}</td><td>${t.createdAt}</td></tr>`)}</tbody>
</table>
${dry.matched > dry.examples.length ? html`<p>… and ${dry.matched - dry.examples.length} more.</p>` : ''}` : ''}
${dry.matched === 0 ? html`<p>Nothing to ${action}.</p>` : html`<form method="post" action="/actions/bulk/${action}">
  <input type="hidden" name="csrf" value="${formToken}">
  ${filterFields.map((field) => (filter[field] ? html`<input type="hidden" name="${field}" value="${filter[field]}">` : ''))}
  ${action === 'revoke' ? html`<label>Reason <input name="reason" type="text" value="revoked from the dashboard"></label>` : ''}
  ${action === 'purge' ? html`<label><input type="checkbox" name="confirm" value="yes" required> Delete the records of these ${tasks}</label>` : ''}
  <button type="submit">${verb[action]} ${dry.matched} matching</button>
</form>`}
<p><a href="${list}">Back to the list</a></p>`;
}
