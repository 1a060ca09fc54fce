// A tiny Markdown renderer for model answers that builds Preact vnodes, never HTML: text is
// always text, so no markup from a model ever runs. Paragraphs (single newlines kept as line
// breaks), headings, **bold**, *italic*, `code`, fenced code blocks (with a Copy button),
// nested lists, quotes, rules, and links that are http(s) only (opened in a new tab, no referrer).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

const INLINE = new RegExp([
  '(`+)([^`]|[^`][\\s\\S]*?[^`])\\1(?!`)', // 1,2 code span
  '\\[([^\\]\\n]+)\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+"[^"]*")?\\s*\\)', // 3,4 link
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*', // 5 bold
  '(?<![A-Za-z0-9_])__(?=\\S)([\\s\\S]*?\\S)__(?![A-Za-z0-9_])', // 6 bold
  '\\*(?=[^\\s*])([\\s\\S]*?[^\\s*])\\*', // 7 italic
  '(?<![A-Za-z0-9_])_(?=[^\\s_])([\\s\\S]*?[^\\s_])_(?![A-Za-z0-9_])', // 8 italic
  '~~(?=\\S)([\\s\\S]*?\\S)~~', // 9 strike
  '(https?:\\/\\/[^\\s<>()]*[^\\s<>().,;:!?\'"*_])', // 10 bare URL
  '(\\n)', // 11 line break
].join('|'), 'g');

// Only absolute http and https URLs become links.
export function safeUrl(href: string): string | null {
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function A({ href, children }: { href: string; children: ComponentChildren }) {
  return <a href={href} target="_blank" rel="noopener noreferrer">{children}</a>;
}

export function inline(s: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  const re = new RegExp(INLINE.source, 'g');
  while ((m = re.exec(s))) {
    if (m.index > last) out.push(s.slice(last, m.index));
    const k = out.length;
    if (m[2] !== undefined) out.push(<code key={k}>{m[2].length > 2 && m[2].startsWith(' ') && m[2].endsWith(' ') ? m[2].slice(1, -1) : m[2]}</code>);
    else if (m[3] !== undefined) {
      const href = safeUrl(m[4]);
      out.push(href ? <A key={k} href={href}>{inline(m[3])}</A> : <span key={k}>{inline(m[3])} ({m[4]})</span>);
    } else if (m[5] !== undefined || m[6] !== undefined) out.push(<strong key={k}>{inline(m[5] ?? m[6])}</strong>);
    else if (m[7] !== undefined || m[8] !== undefined) out.push(<em key={k}>{inline(m[7] ?? m[8])}</em>);
    else if (m[9] !== undefined) out.push(<del key={k}>{inline(m[9])}</del>);
    else if (m[10] !== undefined) {
      const href = safeUrl(m[10]);
      out.push(href ? <A key={k} href={href}>{m[10]}</A> : m[10]);
    } else out.push(<br key={k} />);
    last = re.lastIndex;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [note, setNote] = useState('');
  const copy = () =>
    navigator.clipboard.writeText(text).then(() => setNote('Copied'), () => setNote('Copy failed')).finally(() => setTimeout(() => setNote(''), 1500));
  return <button type="button" class="copy" onClick={copy} aria-label={note || label}>{note || label}</button>;
}

function Code({ lang, text }: { lang: string; text: string }) {
  return (
    <div class="md-code">
      <div class="md-code-head">
        <span class="muted small">{lang || 'code'}</span>
        <CopyButton text={text} label={`Copy ${lang || 'code'}`} />
      </div>
      <pre><code>{text}</code></pre>
    </div>
  );
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])(?:\s+(.*)|$)/;
const QUOTE = /^ {0,3}> ?/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const indentOf = (l: string) => l.length - l.replace(/^ +/, '').length;
const startsBlock = (l: string) => FENCE.test(l) || HEADING.test(l) || ITEM.test(l) || QUOTE.test(l) || RULE.test(l);

function blocks(lines: string[]): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i];
    const k = out.length;
    let m: RegExpMatchArray | null;
    if (!l.trim()) { i++; continue; }
    if ((m = l.match(FENCE))) {
      const close = new RegExp(`^ {0,3}${m[1][0] === '`' ? '`' : '~'}{${m[1].length},}\\s*$`);
      const body: string[] = [];
      const pad = indentOf(l);
      for (i++; i < lines.length && !close.test(lines[i]); i++) body.push(lines[i].slice(Math.min(pad, indentOf(lines[i]))));
      i++; // the closing fence (or the end, while streaming)
      out.push(<Code key={k} lang={m[2]} text={body.join('\n')} />);
    } else if ((m = l.match(HEADING))) {
      const Tag = (['h3', 'h4', 'h5', 'h6', 'h6', 'h6'] as const)[m[1].length - 1];
      out.push(<Tag key={k} class="md-h">{inline(m[2])}</Tag>);
      i++;
    } else if (RULE.test(l)) {
      out.push(<hr key={k} />);
      i++;
    } else if (QUOTE.test(l)) {
      const body: string[] = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i++) body.push(lines[i].replace(QUOTE, ''));
      out.push(<blockquote key={k}>{blocks(body)}</blockquote>);
    } else if ((m = l.match(ITEM))) {
      const base = m[1].length;
      const ordered = /\d/.test(m[2]);
      const items: string[][] = [];
      while (i < lines.length) {
        const cur = lines[i];
        const im = cur.match(ITEM);
        if (im && im[1].length === base && /\d/.test(im[2]) === ordered) {
          items.push([im[3] ?? '']);
          i++;
        } else if (!cur.trim()) {
          // A blank line ends the list unless more of it (an item or an indented line) follows.
          const next = lines[i + 1];
          if (next !== undefined && (indentOf(next) > base || (next.match(ITEM)?.[1].length === base && ITEM.test(next)))) {
            items[items.length - 1].push('');
            i++;
          } else break;
        } else if (indentOf(cur) > base || (!startsBlock(cur) && indentOf(cur) >= base)) {
          items[items.length - 1].push(cur.slice(Math.min(indentOf(cur), base + (ordered ? 3 : 2))));
          i++;
        } else break;
      }
      const lis = items.map((it, n) => {
        // A single paragraph of an item renders without a <p>.
        const content = blocks(it);
        return <li key={n}>{it.some((x, j) => j > 0 && startsBlock(x.trimStart())) || it.includes('') ? content : inline(it.join('\n'))}</li>;
      });
      const start = ordered ? parseInt(m[2], 10) : 1;
      out.push(ordered ? <ol key={k} start={start !== 1 ? start : undefined}>{lis}</ol> : <ul key={k}>{lis}</ul>);
    } else {
      const para: string[] = [];
      for (; i < lines.length && lines[i].trim() && (para.length === 0 || !startsBlock(lines[i])); i++) para.push(lines[i].trim());
      out.push(<p key={k}>{inline(para.join('\n'))}</p>);
    }
  }
  return out;
}

export function Markdown({ text }: { text: string }) {
  return <div class="md">{blocks(text.replace(/\r\n?/g, '\n').split('\n'))}</div>;
}
