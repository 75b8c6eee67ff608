/**
 * Escaping for every string that comes from outside (device names, paths, messages, suite names) before it
 * lands in XML (junit.xml), HTML (report.html, inline SVG), Markdown (step summary) or a terminal.
 */

/**
 * Code points XML 1.0 forbids (§2.2 Char): C0 controls other than TAB/LF/CR, U+FFFE/U+FFFF and unpaired
 * surrogates. They are not escapable as character references either, so they are replaced by visible text.
 */
const XML_FORBIDDEN =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replace XML-forbidden code points by a visible `\uXXXX` so the information survives. */
export function replaceForbiddenXmlChars(text: string): string {
  return text.replace(XML_FORBIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** Escape for XML/HTML text and attribute values: `& < > " '` plus forbidden code points. */
export function escapeXml(text: string): string {
  return replaceForbiddenXmlChars(String(text))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Escape for an XML attribute value: as `escapeXml`, and TAB/LF/CR as character references, because
 * attribute-value normalisation would otherwise turn them into spaces.
 */
export function escapeXmlAttr(text: string): string {
  return escapeXml(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/** HTML text and attribute values (HTML5 knows `&apos;`, but `&#39;` is safe in every HTML version). */
export function escapeHtml(text: string): string {
  return escapeXml(text).replace(/&apos;/g, '&#39;');
}

/** One line for a terminal: C0/C1 controls (ESC sequences included) become `?`, so names cannot drive the TTY. */
export function escapeTerminal(text: string): string {
  return String(text).replace(/[\u0000-\u001F\u007F-\u009F]/g, '?');
}

/**
 * Inline Markdown (GitHub-flavoured), also safe in a table cell: HTML metacharacters become entities (GitHub
 * renders raw HTML in summaries), Markdown punctuation is backslash-escaped, newlines and `|` cannot break rows.
 */
export function escapeMarkdown(text: string): string {
  return String(text)
    .replace(/[\u0000-\u001F\u007F-\u009F]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]#|~])/g, '\\$1');
}
