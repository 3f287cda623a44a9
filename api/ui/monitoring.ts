/**
 * `GET /monitoring`: reference vs current distribution per feature, drift scores over time, and
 * live quality from feedback. Self-contained (inline SVG drawn by an inline script, no CDN); the
 * data comes from `GET /drift` and `GET /feedback`, refreshed every 10 s.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from './page.ts';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f8;color:#1d2433}
header{background:#fff;border-bottom:1px solid #dde1e8;padding:14px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
h1{font-size:20px;margin:0} .muted{color:#5b6577} main{padding:16px 24px;display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:16px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:12px 14px} .card h2{font-size:15px;margin:0 0 6px;display:flex;justify-content:space-between}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;background:#e6f4ea;color:#1e6b35} .badge.drift{background:#fde8e8;color:#a61b1b}
.summary{display:flex;gap:18px;flex-wrap:wrap} .summary b{font-size:18px} svg text{font-size:10px;fill:#5b6577} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
`;

const SCRIPT = `
const $=(s)=>document.querySelector(s);
const el=(tag,attrs={},text)=>{const e=document.createElementNS(tag==='div'||tag==='span'||tag==='h2'||tag==='b'?'http://www.w3.org/1999/xhtml':'http://www.w3.org/2000/svg',tag);for(const[k,v]of Object.entries(attrs))e.setAttribute(k,v);if(text!==undefined)e.textContent=text;return e;};
const ft_numeric=(labels)=>labels.length>0&&String(labels[0]).includes('–');
function bars(labels,ref,cur){const W=360,H=120,n=labels.length,sr=ref.reduce((a,b)=>a+b,0)||1,sc=cur.reduce((a,b)=>a+b,0)||1;const r=ref.map(v=>v/sr),c=cur.map(v=>v/sc);const max=Math.max(...r,...c,0.01);const svg=el('svg',{viewBox:'0 0 '+W+' '+(H+30),width:'100%'});const bw=(W-20)/n;
labels.forEach((l,i)=>{const x=10+i*bw;const hr=H*r[i]/max,hc=H*c[i]/max;svg.append(el('rect',{x:x+1,y:H-hr,width:Math.max(1,bw/2-1),height:hr,fill:'#4c78a8'}));svg.append(el('rect',{x:x+bw/2,y:H-hc,width:Math.max(1,bw/2-1),height:hc,fill:'#f58518'}));if(i%Math.max(1,Math.ceil(n/(ft_numeric(labels)?6:13)))===0)svg.append(el('text',{x:x+bw/2,y:H+12,'text-anchor':'middle'},String(l).slice(0,8)));});
svg.append(el('text',{x:10,y:H+26},'share of rows: reference (blue) vs current window (orange)'));return svg;}
function spark(points,threshold){const W=360,H=40,svg=el('svg',{viewBox:'0 0 '+W+' '+H,width:'100%'});if(points.length<2)return svg;const max=Math.max(threshold*1.5,...points.map(p=>p.score));const x=(i)=>i*(W-10)/(points.length-1)+5,y=(v)=>H-4-(H-8)*v/max;
svg.append(el('line',{x1:0,x2:W,y1:y(threshold),y2:y(threshold),stroke:'#a61b1b','stroke-dasharray':'4 3'}));svg.append(el('polyline',{points:points.map((p,i)=>x(i)+','+y(p.score)).join(' '),fill:'none',stroke:'#1d2433','stroke-width':1.5}));return svg;}
async function get(u){const r=await fetch(u);if(r.status===401||r.status===403)throw new Error('it needs a token (this server sets API_TOKENS; PUBLIC_MONITORING=on opens monitoring reads)');return r.json();}
async function refresh(){try{const d=await get('drift');const f=await get('feedback');
$('#version').textContent=d.model_version===null?'no model':'v'+d.model_version;$('#window').textContent=d.window+' / '+d.window_size;$('#share').textContent=(100*(d.dataset.drift_share||0)).toFixed(0)+'% of features drifted'+(d.dataset.drifted?' — DATASET DRIFT':'');
$('#live').textContent=f.live?Object.entries(f.live).filter(([k,v])=>typeof v==='number'&&k!=='n').map(([k,v])=>k+' '+v.toFixed(3)).join(' · ')+' (n='+f.live.n+')':'no feedback yet';
const main=$('main');main.replaceChildren();for(const ft of d.features){const card=el('div',{class:'card'});const h=el('h2');h.append(el('span',{},ft.name));h.append(el('span',{class:'badge'+(ft.drifted?' drift':'')},ft.result?(ft.result.method+' '+ft.result.score.toFixed(3)+(ft.drifted?' drift':' ok')):'waiting for data'));card.append(h);
card.append(bars(ft.labels,ft.reference,ft.current));card.append(spark((d.history||[]).map(x=>({score:(x.scores[ft.name]??0)})),ft.result?ft.result.threshold:0.1));const m=el('div',{class:'muted'},'n '+ft.n+' · missing '+ft.missing+' · unseen '+ft.unseen_total+' · out of range '+ft.out_of_range_total);card.append(m);main.append(card);}
}catch(e){$('#share').textContent='cannot load /drift: '+e.message;}}
refresh();setInterval(refresh,10000);
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
export const MONITORING_CSP = ["default-src 'none'", `script-src ${sha256(SCRIPT)}`, `style-src ${sha256(STYLE)}`, "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"].join('; ');

export function renderMonitoringHtml(opts: { modelName: string }): string {
  const name = escapeHtml(opts.modelName);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${name} monitoring</title><style>${STYLE}</style></head>
<body><header><h1>${name} <span id="version" class="muted"></span></h1><div class="summary"><div>window <b id="window">–</b></div><div><b id="share">–</b></div><div>live quality: <span id="live">–</span></div></div><div><a href="/">try the model</a> · <a href="/drift">/drift</a> · <a href="/metrics">/metrics</a></div></header>
<main></main><script>${SCRIPT}</script></body></html>`;
}
