import { taskStatuses } from '../../results/schema.ts';
import type { TaskDetail, TaskStats, TaskSummary } from '../../results/queries.ts';
import type { LaneDeadLetter, QueueDepth, ScheduleView } from '../../operations/index.ts';
import type { HistoryFilter } from '../../results/queries.ts';
import { formToken } from '../guard.ts';
import { barChart, html, type Html } from './html.ts';

/** Every form that changes something carries the process's form token. */
const tokenField = html`<input type="hidden" name="csrf" value="${formToken}">`;

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
const json = (value: unknown) => JSON.stringify(value, null, 2);
const statusCell = (status: string) => html`<span class="status ${status}">${status}</span>`;

export function overviewPage(queues: readonly QueueDepth[], stats: TaskStats, schedules: readonly ScheduleView[]): Html {
  const points = (key: 'succeeded' | 'failed') => stats.perMinute.map((m) => ({ label: m.minute, value: m[key] }));
  return html`
<section aria-labelledby="queues-heading">
  <h2 id="queues-heading">Queues</h2>
  <table>
    <thead><tr><th scope="col">Queue</th><th scope="col">Lane</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">In flight</th><th scope="col" class="num">Delayed</th><th scope="col" class="num">Dead letters</th><th scope="col" class="num">Oldest (s)</th></tr></thead>
    <tbody>${queues.map((q) => html`<tr>
      <th scope="row">${q.queue}</th><td>${q.priority}</td><td class="num">${q.visible}</td><td class="num">${q.inFlight}</td><td class="num">${q.delayed}</td>
      <td class="num"><a href="/dlq/${q.queue}" aria-label="${q.deadLetters} dead letters on ${q.lane}">${q.deadLetters}</a></td>
      <td class="num">${q.oldestAgeSeconds ?? ''}</td></tr>`)}</tbody>
  </table>
</section>
<section aria-labelledby="throughput-heading">
  <h2 id="throughput-heading">Last hour</h2>
  <div class="charts">
    ${barChart('Succeeded per minute', points('succeeded'), '#2e8b57')}
    ${barChart('Failed per minute', points('failed'), '#c0392b')}
  </div>
  <table>
    <thead><tr><th scope="col"></th><th scope="col" class="num">p50 (ms)</th><th scope="col" class="num">p95 (ms)</th></tr></thead>
    <tbody>
      <tr><th scope="row">Wait (sent → started)</th><td class="num">${stats.waitMs.p50 ?? '–'}</td><td class="num">${stats.waitMs.p95 ?? '–'}</td></tr>
      <tr><th scope="row">Run</th><td class="num">${stats.runMs.p50 ?? '–'}</td><td class="num">${stats.runMs.p95 ?? '–'}</td></tr>
    </tbody>
  </table>
</section>
<section aria-labelledby="schedules-heading">
  <h2 id="schedules-heading">Schedules</h2>
  <table>
    <thead><tr><th scope="col">Schedule</th><th scope="col">Expression</th><th scope="col">Task</th><th scope="col">Next run</th><th scope="col"></th></tr></thead>
    <tbody>${schedules.map((s) => html`<tr>
      <th scope="row">${s.name}</th><td><code>${s.expression}</code></td><td>${s.task}</td><td>${time(s.nextRuns[0] ?? null)}</td>
      <td><form class="inline" method="post" action="/actions/schedules/${s.name}/run">${tokenField}<button type="submit">Run ${s.name} now</button></form></td></tr>`)}</tbody>
  </table>
</section>`;
}

export function taskRows(tasks: readonly TaskSummary[]): Html {
  if (tasks.length === 0) return html`<tr><td colspan="7">No tasks match.</td></tr>`;
  return html`${tasks.map((t) => html`<tr>
    <td><a href="/tasks/${encodeURIComponent(t.id)}">${t.id}</a></td><td>${t.name}</td><td>${statusCell(t.status)}</td>
    <td class="num">${t.attempts}</td><td>${time(t.createdAt)}</td><td>${time(t.dateDone)}</td><td class="num">${t.runtimeMs ?? ''}</td></tr>`)}`;
}

export function tasksPage(tasks: readonly TaskSummary[], filter: HistoryFilter, taskNames: readonly string[], bulk?: Html): Html {
  return html`
<form method="get" action="/tasks" aria-label="Filter tasks">
  <label>State <select name="status"><option value="">any</option>${taskStatuses.map((s) => html`<option ${s === filter.status ? 'selected' : ''}>${s}</option>`)}</select></label>
  <label>Task <select name="task"><option value="">any</option>${taskNames.map((n) => html`<option ${n === filter.task ? 'selected' : ''}>${n}</option>`)}</select></label>
  <label>Since <input name="since" type="text" placeholder="2026-11-27T09:00:00Z" value="${filter.since ?? ''}"></label>
  <label>Until <input name="until" type="text" placeholder="2026-11-28" value="${filter.until ?? ''}"></label>
  <label>Tenant <input name="tenant" type="text" value="${filter.tenant ?? ''}"></label>
  <label>Id or payload text <input name="search" type="search" value="${filter.search ?? ''}"></label>
  <button type="submit">Filter</button>
</form>
<table>
  <thead><tr><th scope="col">Id</th><th scope="col">Task</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Created</th><th scope="col">Done</th><th scope="col" class="num">Run (ms)</th></tr></thead>
  <tbody id="task-rows" aria-live="polite">${taskRows(tasks)}</tbody>
</table>
${bulk ?? ''}
`;
}

export function taskPage(task: TaskDetail): Html {
  const final = ['SUCCESS', 'FAILURE', 'REVOKED'].includes(task.status);
  return html`
<dl>
  <dt>Id</dt><dd><code>${task.id}</code></dd>
  <dt>Task</dt><dd>${task.name || '(not yet picked up)'}</dd>
  <dt>Queue</dt><dd>${task.queue}</dd>
  ${task.tenant ? html`<dt>Tenant</dt><dd>${task.tenant}</dd>` : ''}
  <dt>State</dt><dd>${statusCell(task.status)}</dd>
  <dt>Attempts</dt><dd>${task.attempts}</dd>
  <dt>Created</dt><dd>${time(task.createdAt)}</dd>
  <dt>Done</dt><dd>${time(task.dateDone)}</dd>
  <dt>Run time</dt><dd>${task.runtimeMs === null ? '' : `${task.runtimeMs} ms`}</dd>
</dl>
<h2>Payload</h2><pre>${json(task.payload)}</pre>
${task.result !== null ? html`<h2>Result</h2><pre>${json(task.result)}</pre>` : ''}
${task.error ? html`<h2>Error</h2><p>${task.error}</p>` : ''}
${task.traceback ? html`<h2>Traceback</h2><pre>${task.traceback}</pre>` : ''}
<h2>Attempts</h2>
<table>
  <thead><tr><th scope="col" class="num">#</th><th scope="col">State</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col" class="num">Run (ms)</th><th scope="col">Error</th></tr></thead>
  <tbody>${task.attemptHistory.length === 0 ? html`<tr><td colspan="6">Not started yet.</td></tr>` : task.attemptHistory.map((a) => html`<tr>
    <td class="num">${a.attempt}</td><td>${statusCell(a.status)}</td><td>${time(a.startedAt)}</td><td>${time(a.finishedAt)}</td><td class="num">${a.runtimeMs ?? ''}</td><td>${a.error ?? ''}</td></tr>`)}</tbody>
</table>
<h2>Actions</h2>
${final ? '' : html`<form method="post" action="/actions/tasks/${encodeURIComponent(task.id)}/revoke">${tokenField}
  <label>Reason <input name="reason" type="text" value="revoked from the dashboard"></label>
  <button type="submit">Revoke</button>
</form>`}
${task.status === 'FAILURE' ? html`<form method="post" action="/actions/tasks/${encodeURIComponent(task.id)}/retry">${tokenField}<button type="submit">Retry</button></form>` : ''}
${final && task.status !== 'FAILURE' ? html`<p>No actions: the task has finished.</p>` : ''}`;
}

export function unknownTaskPage(id: string): Html {
  return html`<p>No task <code>${id}</code> is recorded yet. A task gets its row when a consumer picks it up; you can revoke it before then.</p>
<form method="post" action="/actions/tasks/${encodeURIComponent(id)}/revoke">${tokenField}
  <label>Reason <input name="reason" type="text" value="revoked from the dashboard"></label>
  <button type="submit">Revoke</button>
</form>`;
}

export function deadLettersPage(queue: string, letters: readonly LaneDeadLetter[]): Html {
  return html`
<form method="post" action="/actions/dlq/${queue}/redrive">${tokenField}
  <table>
    <thead><tr><th scope="col">Select</th><th scope="col">Task id</th><th scope="col">Task</th><th scope="col">Lane</th><th scope="col">Reason</th><th scope="col" class="num">Attempts</th><th scope="col">Failed at</th></tr></thead>
    <tbody>${letters.length === 0 ? html`<tr><td colspan="7">No dead letters on ${queue}.</td></tr>` : letters.map((l) => html`<tr>
      <td>${l.taskId ? html`<input type="checkbox" name="taskId" value="${l.taskId}" aria-label="Select ${l.taskId}">` : ''}</td>
      <td>${l.taskId ? html`<a href="/tasks/${encodeURIComponent(l.taskId)}">${l.taskId}</a>` : html`<em>none</em>`}</td>
      <td>${l.task ?? ''}</td><td>${l.lane === queue ? 'normal' : 'high'}</td><td>${l.reason ?? ''}</td><td class="num">${l.attempts ?? ''}</td><td>${time(l.failedAt)}</td></tr>`)}</tbody>
  </table>
  <button type="submit" name="scope" value="selected">Redrive selected</button>
  <button type="submit" name="scope" value="all">Redrive all</button>
</form>
<form method="post" action="/actions/dlq/${queue}/purge">${tokenField}
  <fieldset><legend>Purge</legend>
    <label><input type="checkbox" name="confirm" value="yes" required> Delete every dead letter on ${queue}</label>
    <button type="submit">Purge</button>
  </fieldset>
</form>`;
}

export function sendPage(tasks: readonly { name: string; alias?: string; queue: string; description: string; schema: unknown }[], values: { task?: string; payload?: string } = {}): Html {
  return html`
<form method="post" action="/actions/send">${tokenField}
  <label for="task-select">Task</label>
  <select name="task" id="task-select">${tasks.map((t) => html`<option value="${t.name}" ${t.name === values.task ? 'selected' : ''}>${t.name}</option>`)}</select>
  <p><label for="payload">Payload (JSON)</label><br><textarea id="payload" name="payload" rows="8" cols="70">${values.payload ?? '{}'}</textarea></p>
  <label for="countdown">Countdown (s)</label> <input id="countdown" name="countdown" type="number" min="0" step="1">
  <label for="task-id">Task id (optional)</label> <input id="task-id" name="id" type="text">
  <label for="priority">Priority</label> <select id="priority" name="priority"><option value="">the task's (catalogue)</option><option value="normal">normal</option><option value="high">high: past the queue's backlog</option></select>
  <p><button type="submit">Send</button></p>
</form>
<h2>Payload schemas</h2>
${tasks.map((t) => html`<details class="schema" data-task="${t.name}" ${t.name === (values.task ?? tasks[0]?.name) ? 'open' : ''}>
  <summary>${t.name} — ${t.description} (queue ${t.queue}${t.alias ? html`, Celery name <code>${t.alias}</code>` : ''})</summary>
  <pre>${json(t.schema)}</pre>
</details>`)}`;
}
