/** Escapes text for HTML content and attribute values. */
export function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A tagged template that escapes every interpolation unless it is already `Html`. */
export class Html {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0]!;
  values.forEach((value, i) => {
    text += render(value) + strings[i + 1]!;
  });
  return new Html(text);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escape(value);
}

/** The dashboard's one stylesheet, served from /assets/taskq.css (the page policy allows no inline style). */
export const styles = `
  :root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fafafa; }
  body { margin: 0; }
  header { background: #1f3a5f; color: #fff; padding: .6rem 1rem; display: flex; gap: 1.5rem; align-items: center; flex-wrap: wrap; }
  header a { color: #fff; }
  header strong { font-size: 1.1rem; }
  main { padding: 1rem; max-width: 80rem; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; background: #fff; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { background: #eef1f5; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  pre { background: #fff; border: 1px solid #ddd; padding: .6rem; overflow: auto; max-height: 24rem; }
  .status { font-weight: 600; }
  .SUCCESS { color: #176f2c; } .FAILURE { color: #b00020; } .RETRY { color: #a35b00; } .REVOKED { color: #6b4fa0; } .STARTED { color: #1f5fbf; }
  .notice { background: #e7f4ea; border: 1px solid #9ccfa8; padding: .5rem .8rem; }
  .error { background: #fdecee; border: 1px solid #e7a1aa; padding: .5rem .8rem; }
  form.inline { display: inline; }
  fieldset { border: 1px solid #ccc; margin-bottom: 1rem; }
  label { display: inline-block; margin: .2rem .8rem .2rem 0; }
  button { padding: .3rem .8rem; cursor: pointer; }
  .charts { display: flex; gap: 2rem; flex-wrap: wrap; }
  a.button { display: inline-block; padding: .3rem .8rem; margin-right: .6rem; border: 1px solid #767676; border-radius: 2px; background: #efefef; color: #1b1f24; text-decoration: none; }
  .muted { color: #5a6270; margin-right: .6rem; }
`;

/** The dashboard's one script, served from /assets/taskq.js (the page policy allows no inline script). */
export const script = `
// The task list updates itself: the same query, rows only, every two seconds.
const rows = document.getElementById('task-rows');
if (rows) {
  setInterval(async () => {
    const url = new URL(location.href);
    url.searchParams.set('rows', '1');
    const response = await fetch(url);
    if (response.ok) rows.innerHTML = await response.text();
  }, 2000);
}
// The send form shows the chosen task's payload schema.
const select = document.getElementById('task-select');
if (select) {
  select.addEventListener('change', () => {
    for (const d of document.querySelectorAll('details.schema')) d.open = d.dataset.task === select.value;
  });
}
`;

export function layout(title: string, body: Html, options: { notice?: string | null; error?: string | null } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · taskq</title>
<link rel="stylesheet" href="/assets/taskq.css">
<script src="/assets/taskq.js" defer></script>
</head>
<body>
<header>
  <strong>taskq</strong>
  <nav aria-label="Main">
    <a href="/">Overview</a> · <a href="/tasks">Tasks</a> · <a href="/inspect">Consumers</a> · <a href="/send">Send a task</a>
  </nav>
</header>
<main>
  <h1>${title}</h1>
  ${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
  ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
  ${body}
</main>
</body>
</html>`.text;
}

/** A per-minute bar chart as inline SVG: no script, readable by screen readers through its table twin. */
export function barChart(title: string, points: readonly { label: string; value: number }[], colour: string): Html {
  const width = 480;
  const height = 120;
  const max = Math.max(1, ...points.map((p) => p.value));
  const bar = points.length > 0 ? width / points.length : width;
  return html`<figure>
  <svg role="img" aria-label="${title}" width="${width}" height="${height + 20}" viewBox="0 0 ${width} ${height + 20}">
    <title>${title}</title>
    ${points.map((p, i) => {
      const h = Math.round((p.value / max) * height);
      return html`<rect x="${(i * bar + 1).toFixed(1)}" y="${height - h}" width="${Math.max(1, bar - 2).toFixed(1)}" height="${h}" fill="${colour}"><title>${p.label}: ${p.value}</title></rect>`;
    })}
    <text x="0" y="${height + 15}" font-size="11">${points[0]?.label ?? ''}</text>
    <text x="${width}" y="${height + 15}" font-size="11" text-anchor="end">max ${max}</text>
  </svg>
  <figcaption>${title}</figcaption>
</figure>`;
}
