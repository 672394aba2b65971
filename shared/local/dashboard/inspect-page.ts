import type { ActiveTask, QueueStats, RegisteredTask, ReservedView, ScheduledView } from '../../operations/index.ts';
import { formToken } from '../guard.ts';
import { html, type Html } from './html.ts';

const tokenField = html`<input type="hidden" name="csrf" value="${formToken}">`;
const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
const ms = (latency: QueueStats['runMs']) => [latency.p50, latency.p95, latency.p99].map((value) => value ?? '–').join(' / ');
const seconds = (value: number | null) => (value === null ? 'none' : `${Number(value.toFixed(3))} s`);
const taskLink = (id: string | null) => (id ? html`<a href="/tasks/${encodeURIComponent(id)}">${id}</a>` : html`<em>unreadable</em>`);

/** Everything `taskq inspect` shows, with the `control` actions beside what they change. */
export interface InspectView {
  readonly stats: readonly QueueStats[];
  readonly active: readonly ActiveTask[];
  readonly reserved: ReservedView;
  readonly scheduled: ScheduledView;
  readonly registered: readonly RegisteredTask[];
}

export function inspectPage(view: InspectView): Html {
  return html`${queuesSection(view.stats)}${activeSection(view.active)}${reservedSection(view.reserved)}${scheduledSection(view.scheduled)}${registeredSection(view.registered)}`;
}

function queuesSection(stats: readonly QueueStats[]): Html {
  return html`
<section aria-labelledby="consumers-heading">
  <h2 id="consumers-heading">Queues and consumers</h2>
  <p>Over the last ${stats[0]?.minutes ?? 60} minutes. Latency in ms, p50 / p95 / p99.</p>
  <table>
    <thead><tr><th scope="col">Queue</th><th scope="col">Consumer</th><th scope="col" class="num">Per minute</th><th scope="col" class="num">OK</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Retried</th>
      <th scope="col">Wait</th><th scope="col">Run</th><th scope="col" class="num">Concurrency</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">In flight</th><th scope="col" class="num">Delayed</th><th scope="col" class="num">Dead letters</th><th scope="col">Actions</th></tr></thead>
    <tbody>${stats.map((s) => html`<tr>
      <th scope="row">${s.queue}</th><td class="consumer-state">${s.consumer}</td><td class="num">${s.throughputPerMinute}</td><td class="num">${s.succeeded}</td><td class="num">${s.failed}</td><td class="num">${s.retried}</td>
      <td>${ms(s.waitMs)}</td><td>${ms(s.runMs)}</td><td class="num">${s.concurrency.inUse} / ${s.concurrency.maximum}</td>
      <td class="num">${s.depth.waiting}</td><td class="num">${s.depth.inFlight}</td><td class="num">${s.depth.delayed}</td><td class="num"><a href="/dlq/${s.queue}">${s.deadLetters}</a></td>
      <td>
        <form class="inline" method="post" action="/actions/control/queues/${s.queue}/${s.consumer === 'Disabled' ? 'resume' : 'pause'}">${tokenField}<button type="submit">${s.consumer === 'Disabled' ? 'Resume' : 'Pause'} ${s.queue}</button></form>
        <form class="inline" method="post" action="/actions/queues/${s.queue}/purge">${tokenField}
          <label><input type="checkbox" name="confirm" value="yes" required> Delete every message waiting on ${s.queue}</label>
          <button type="submit">Purge ${s.queue}</button>
        </form>
      </td></tr>`)}</tbody>
  </table>
</section>`;
}

function activeSection(active: readonly ActiveTask[]): Html {
  return html`
<section aria-labelledby="active-heading">
  <h2 id="active-heading">Running now</h2>
  <table>
    <thead><tr><th scope="col">Id</th><th scope="col">Task</th><th scope="col">Queue</th><th scope="col">Started</th><th scope="col" class="num">Attempt</th><th scope="col">Consumer</th><th scope="col">Lease until</th></tr></thead>
    <tbody>${active.length === 0 ? html`<tr><td colspan="7">Nothing is running.</td></tr>` : active.map((t) => html`<tr>
      <td>${taskLink(t.id)}</td><td>${t.task}</td><td>${t.queue}</td><td>${time(t.startedAt)}</td><td class="num">${t.attempt}</td><td><code>${t.consumer ?? ''}</code></td>
      <td>${time(t.leaseExpiresAt)}${t.leaseExpired ? ' (expired: its invocation ended without an outcome)' : ''}</td></tr>`)}</tbody>
  </table>
</section>`;
}

function reservedSection(reserved: ReservedView): Html {
  return html`
<section aria-labelledby="reserved-heading">
  <h2 id="reserved-heading">Received, not started</h2>
  <table>
    <thead><tr><th scope="col">Id</th><th scope="col">Task</th><th scope="col">Queue</th><th scope="col" class="num">Receives</th><th scope="col">Hidden until</th></tr></thead>
    <tbody>${reserved.tasks.length === 0 ? html`<tr><td colspan="5">No message waits in a consumer.</td></tr>` : reserved.tasks.map((t) => html`<tr>
      <td>${taskLink(t.id)}</td><td>${t.task ?? ''}</td><td>${t.queue}</td><td class="num">${t.receiveCount}</td><td>${time(t.hiddenUntil)}</td></tr>`)}</tbody>
  </table>
</section>`;
}

function scheduledSection(scheduled: ScheduledView): Html {
  return html`
<section aria-labelledby="scheduled-heading">
  <h2 id="scheduled-heading">Scheduled</h2>
  <table>
    <thead><tr><th scope="col">Due</th><th scope="col">Kind</th><th scope="col">Id</th><th scope="col">Task</th><th scope="col">Queue</th></tr></thead>
    <tbody>${scheduled.tasks.length === 0 ? html`<tr><td colspan="5">Nothing is scheduled.</td></tr>` : scheduled.tasks.map((t) => html`<tr>
      <td>${t.eta ? time(t.eta) : 'after its back-off'}</td><td>${t.kind}</td><td>${taskLink(t.id)}</td><td>${t.task ?? ''}</td><td>${t.queue}</td></tr>`)}</tbody>
  </table>
</section>`;
}

function registeredSection(registered: readonly RegisteredTask[]): Html {
  const changed = (value: { override: unknown }) => (value.override === null ? '' : html` <strong title="changed at run time">(changed)</strong>`);
  return html`
<section aria-labelledby="registered-heading">
  <h2 id="registered-heading">Registered tasks</h2>
  <p>Rate, time and concurrency limits changed here apply on every consumer within seconds, without a deploy; Reset restores the catalogue's.</p>
  <table>
    <thead><tr><th scope="col">Task</th><th scope="col">Queue</th><th scope="col">Rate limit</th><th scope="col">Soft limit</th><th scope="col">Hard limit</th><th scope="col">At once</th><th scope="col">Once per</th><th scope="col">Tenant</th><th scope="col">Priority</th><th scope="col" class="num">Retries</th><th scope="col">Change</th></tr></thead>
    <tbody>${registered.map((t) => html`<tr data-task="${t.name}">
      <th scope="row">${t.name}${t.alias ? html`<br><code>${t.alias}</code>` : ''}</th><td>${t.queue}</td>
      <td class="rate-limit">${t.rateLimit.effective ?? 'none'}${changed(t.rateLimit)}</td>
      <td>${seconds(t.softTimeLimitSeconds.effective)}${changed(t.softTimeLimitSeconds)}</td><td>${seconds(t.timeLimitSeconds.effective)}${changed(t.timeLimitSeconds)}</td>
      <td class="concurrency">${t.concurrency.effective === null ? 'any' : `${t.concurrency.effective}${t.concurrency.key ? ` per ${t.concurrency.key}` : ''}`}${changed(t.concurrency)}</td>
      <td>${t.dedupe ? `${t.dedupe.mode} ${t.dedupe.window}${t.dedupe.key ? ` by ${t.dedupe.key.join(', ')}` : ''}` : ''}</td>
      <td>${t.tenant ?? ''}</td><td>${t.priority}</td>
      <td class="num">${t.retry.maxRetries}</td>
      <td>
        <form class="inline" method="post" action="/actions/control/tasks/${encodeURIComponent(t.name)}/rate-limit">${tokenField}
          <input name="rate" type="text" size="6" placeholder="10/m" required aria-label="Rate limit of ${t.name}"><button type="submit" aria-label="Apply the rate limit to ${t.name}">Set rate limit</button>
        </form>
        <form class="inline" method="post" action="/actions/control/tasks/${encodeURIComponent(t.name)}/time-limit">${tokenField}
          <input name="soft" type="text" size="5" placeholder="soft 30s" required aria-label="Soft limit of ${t.name}">
          <input name="hard" type="text" size="5" placeholder="hard 1m" required aria-label="Hard limit of ${t.name}"><button type="submit" aria-label="Apply the time limits to ${t.name}">Set time limits</button>
        </form>
        <form class="inline" method="post" action="/actions/control/tasks/${encodeURIComponent(t.name)}/concurrency">${tokenField}
          <input name="limit" type="number" min="0" max="1000" required aria-label="Concurrency limit of ${t.name}"><button type="submit" aria-label="Apply the concurrency limit to ${t.name}">Set at once</button>
        </form>
        ${t.changedAt ? html`<form class="inline" method="post" action="/actions/control/tasks/${encodeURIComponent(t.name)}/reset">${tokenField}<button type="submit">Reset ${t.name}</button></form>` : ''}
      </td></tr>`)}</tbody>
  </table>
</section>`;
}
