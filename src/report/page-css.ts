/**
 * The style every self-contained loopcheck page shares (report.html, bench.html, compare.html): palette,
 * typography, tables, figures, print rules. Each page appends its own rules.
 */
export const BASE_CSS = `
:root{--pass:#1b7f3b;--fail:#b00020;--warn:#8a5a00;--line:#d0d0d0;--muted:#555}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fafafa;margin:0}
main{max-width:980px;margin:0 auto;padding:16px 20px 40px}
h2{margin:28px 0 8px;font-size:20px;border-bottom:1px solid var(--line);padding-bottom:4px}
a{color:#0b57d0}
nav.toc{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 16px;margin-top:14px}
table{border-collapse:collapse;background:#fff;margin:6px 0;width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:6px 0;background:#fff}
figcaption{font-size:12px;color:var(--muted)}
svg.plot{max-width:100%;height:auto;display:block}
.muted{color:var(--muted)}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  @page{margin:12mm}
  body{background:#fff;font-size:11pt}
  main{max-width:none;padding:0}
  figure,table,tr{break-inside:avoid}
  h2,h3{break-after:avoid}
}
`;
