/** The UI's stylesheet, inlined into the page so it works offline and under a hash-based CSP. */
export const UI_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f8; --card: #ffffff; --text: #1b2130; --muted: #5b6475; --line: #dce0e7;
  --accent: #3451d1; --accent-text: #ffffff; --focus: #6d83f2;
  --pos: #b4430b; --pos-bg: #fff0e5; --neg: #13703a; --neg-bg: #e6f6ec;
  --err: #b42318; --err-bg: #fdeceb; --radius: 12px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  font-size: 15px; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11141a; --card: #1a1f27; --text: #e5e8ee; --muted: #9aa3b3; --line: #2e3541;
    --accent: #7d93ff; --accent-text: #0c1020; --focus: #9aabff;
    --pos: #fb9a55; --pos-bg: #3a2416; --neg: #55d68a; --neg-bg: #13301f;
    --err: #ff8a80; --err-bg: #3b1818;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
header.top { background: var(--card); border-bottom: 1px solid var(--line); }
.wrap { max-width: 1080px; margin: 0 auto; padding: 16px 20px; }
.top .wrap { display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; justify-content: space-between; }
.title { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
h1 { font-size: 1.35rem; margin: 0; letter-spacing: -.01em; }
h2 { font-size: 1rem; margin: 0 0 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid var(--line); color: var(--muted); }
.badge.version { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
.badge.warn { color: var(--err); border-color: var(--err); }
.meta { color: var(--muted); font-size: .85rem; }
.links { display: flex; gap: 14px; font-size: .9rem; }
main.wrap { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 20px; align-items: start; }
@media (max-width: 820px) { main.wrap { grid-template-columns: minmax(0, 1fr); } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 18px 20px; }
.side { display: grid; gap: 20px; }
.fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px 16px; }
.field label { display: block; font-weight: 600; margin-bottom: 4px; }
.field .req { color: var(--err); margin-left: 2px; }
.field input, .token input { width: 100%; padding: 9px 11px; font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 8px; }
.field input:focus, .token input:focus, button:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
.field .hint { display: block; color: var(--muted); font-size: .8rem; margin-top: 3px; }
.field .ferr { display: block; color: var(--err); font-size: .85rem; font-weight: 600; margin-top: 3px; }
.field .ferr:empty { display: none; }
.field.invalid input { border-color: var(--err); background: var(--err-bg); }
details.token { margin-top: 16px; }
details.token summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
.token label { display: block; font-size: .85rem; margin: 8px 0 4px; }
.actions { display: flex; gap: 10px; margin-top: 18px; flex-wrap: wrap; }
button { font: inherit; border-radius: 8px; padding: 9px 18px; cursor: pointer; border: 1px solid var(--line); background: var(--card); color: var(--text); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); font-weight: 600; min-width: 120px; }
button:disabled { opacity: .6; cursor: progress; }
.placeholder { color: var(--muted); margin: 0; }
.answered { font-size: 1.05rem; margin: 0 0 10px; }
.answered strong { font-size: 1.2rem; }
.verdict { font-size: 1.5rem; font-weight: 700; padding: 10px 14px; border-radius: 10px; margin: 0 0 14px; }
.verdict.pos { color: var(--pos); background: var(--pos-bg); }
.verdict.neg { color: var(--neg); background: var(--neg-bg); }
.prob { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
.prob .pct { font-size: 1.6rem; font-weight: 700; }
.bar { position: relative; height: 12px; border-radius: 6px; background: var(--bg); border: 1px solid var(--line); margin: 6px 0 4px; overflow: visible; }
.bar .fill { height: 100%; border-radius: 6px; background: var(--accent); }
.classes { list-style: none; padding: 0; margin: 0 0 8px; }
.classes li { margin-bottom: 6px; }
.bar .fill.pos { background: var(--pos); }
.bar .fill.neg { background: var(--neg); }
.bar .mark { position: absolute; top: -5px; bottom: -5px; width: 2px; background: var(--text); }
.value { font-size: 2rem; font-weight: 700; margin: 0 0 8px; }
.small { color: var(--muted); font-size: .8rem; margin: 10px 0 0; word-break: break-all; }
.note { background: var(--pos-bg); color: var(--pos); border-radius: 8px; padding: 8px 12px; margin: 0 0 12px; font-size: .9rem; }
.error { background: var(--err-bg); color: var(--err); border-radius: 10px; padding: 12px 14px; }
.error p { margin: 0; font-weight: 600; }
.error ul { margin: 8px 0 0; padding-left: 20px; }
.error .code { font-weight: 400; font-size: .8rem; opacity: .85; margin-top: 6px; }
ol.history { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }
ol.history li { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.h-top { display: flex; gap: 8px; align-items: flex-start; justify-content: space-between; }
.h-top .h-res { font-weight: 600; flex: 1; }
.h-top .pos { color: var(--pos); }
.h-top .neg { color: var(--neg); }
.h-inputs { color: var(--muted); font-size: .8rem; margin-top: 4px; }
.h-inputs .badge { font-size: .72rem; padding: 0 7px; }
.h-top button { padding: 2px 10px; font-size: .8rem; }
footer { color: var(--muted); font-size: .8rem; text-align: center; padding: 8px 0 24px; }
`;
