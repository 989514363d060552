/* Passerelle chat widget: <script src="https://HOST/widget.js" defer></script>
 * data- options: title greeting lang(fr|en) position(bottom-right|bottom-left) color(#hex)
 * open starters("q1|q2") mode(inline). Server text goes in with textContent, never as HTML. */
(() => {
  'use strict';
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const BASE = new URL('.', script ? script.src : location.href).href.replace(/\/$/, '');
  const KEY = 'passerelle:' + BASE;
  const T = {
    fr: {
      title: 'Assistant documentaire', greeting: 'Bonjour ! Posez une question : chaque réponse cite ses sources.',
      open: 'Ouvrir l’assistant', close: 'Fermer l’assistant', send: 'Envoyer', ask: 'Votre question',
      ph: 'Posez votre question…', reset: 'Nouvelle conversation',
      doc: 'Ouvrir le document', wait: 'Recherche dans les documents…',
      queue: 'En file d’attente (n° {p}) : réponse dans {s} s environ…',
      e403: 'Ce site n’est pas autorisé à utiliser cet assistant.',
      e429: 'Trop de questions d’affilée : réessayez dans {s} secondes.',
      e413: 'Question trop longue{n} : raccourcissez-la.', max: ' ({n} caractères au plus)',
      e422: 'Question vide ou invalide.', e5xx: 'Service momentanément indisponible : réessayez dans un instant.',
      net: 'Service injoignable : vérifiez votre connexion.',
      cut: 'La réponse a été interrompue. Réessayez.'
    },
    en: {
      title: 'Document assistant', greeting: 'Hello! Ask a question: every answer cites its sources.',
      open: 'Open the assistant', close: 'Close the assistant', send: 'Send', ask: 'Your question',
      ph: 'Ask your question…', reset: 'New conversation',
      doc: 'Open the document', wait: 'Searching the documents…',
      queue: 'Waiting in line (no. {p}): answer in about {s} s…',
      e403: 'This site is not allowed to use this assistant.',
      e429: 'Too many questions in a row: retry in {s} seconds.',
      e413: 'Question too long{n}: please shorten it.', max: ' ({n} characters at most)',
      e422: 'Empty or invalid question.', e5xx: 'Service temporarily unavailable: please retry shortly.',
      net: 'Service unreachable: check your connection.',
      cut: 'The answer was interrupted. Please retry.'
    }
  };
  const CSS = `:host{all:initial;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937}
:host([data-mode=inline]),.inline{display:block;height:100%}
*{box-sizing:border-box}[hidden]{display:none!important}button{cursor:pointer;font:inherit;border:0}
.fab,.panel{position:fixed;right:20px;z-index:2147483000}.left .fab,.left .panel{right:auto;left:20px}
.fab{bottom:20px;width:56px;height:56px;border-radius:50%;background:var(--c);color:#fff;box-shadow:0 4px 14px #0004;display:grid;place-items:center}
.panel{bottom:88px;width:min(390px,calc(100vw - 32px));height:min(580px,calc(100vh - 108px));background:#fff;border-radius:14px;box-shadow:0 10px 40px #0005;display:flex;flex-direction:column;overflow:hidden}
.inline .panel{position:static;width:100%;height:100%;border-radius:0;box-shadow:none}
header{background:var(--c);color:#fff;display:flex;align-items:center;gap:4px;padding:10px 12px}
h2{font-size:16px;font-weight:600;margin:0;flex:1}
header button{background:none;color:inherit;font-size:20px;width:34px;height:34px;border-radius:6px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}
.m{max-width:90%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.u{align-self:flex-end;background:var(--c);color:#fff}.b{align-self:flex-start;background:#f1f5f9}.w{color:#64748b;font-style:italic}
.cite{background:var(--c);color:#fff;border-radius:4px;font-size:12px;font-weight:600;padding:0 5px;margin:0 1px}
.q{margin-top:8px;padding:8px 10px;background:#fff;border-left:3px solid var(--c);border-radius:4px;font-size:13px;white-space:normal}
blockquote{margin:4px 0;font-style:italic;max-height:170px;overflow:auto;white-space:pre-wrap}
blockquote strong{font-style:normal;background:#fde68a}
a{color:var(--c)}
.st{display:flex;flex-wrap:wrap;gap:6px;padding:0 12px 8px}
.st button{border:1px solid var(--c);color:var(--c);background:#fff;border-radius:14px;padding:4px 10px;font-size:13px;text-align:left}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb}
textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #94a3b8;border-radius:8px;color:inherit}
form button{background:var(--c);color:#fff;border-radius:8px;padding:0 14px;font-weight:600}
form button:disabled{opacity:.6;cursor:wait}
button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.err{margin:0 10px 4px;padding:8px 10px;background:#fef2f2;color:#991b1b;border-radius:6px;font-size:14px}`;

  // Element builder: strings become text nodes, never HTML.
  const h = (tag, props = {}, ...kids) => {
    const e = document.createElement(tag);
    if (tag === 'button') e.type = 'button';
    for (const [k, v] of Object.entries(props)) {
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== false && v != null) e.setAttribute(k, v === true ? '' : v);
    }
    e.append(...kids);
    return e;
  };
  // Passage, its supporting sentence in bold.
  const quote = (c, [a, b] = c.evidence || []) => b > a
    ? h('blockquote', {}, c.text.slice(0, a), h('strong', { text: c.text.slice(a, b) }), c.text.slice(b))
    : h('blockquote', { text: c.text });
  const uid = () => crypto.randomUUID?.() || Date.now().toString(36) + Math.random().toString(36).slice(2);
  const icon = () => {
    const ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg'), p = document.createElementNS(ns, 'path');
    for (const [k, v] of [['viewBox', '0 0 24 24'], ['width', 28], ['height', 28], ['aria-hidden', true]]) svg.setAttribute(k, v);
    p.setAttribute('fill', 'currentColor');
    p.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z');
    svg.append(p);
    return svg;
  };

  class PasserelleChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const d = this.dataset;
      const t = (this.t = T[d.lang === 'en' ? 'en' : 'fr']);
      this.inline = d.mode === 'inline';
      this.busy = false;
      try { this.s = JSON.parse(sessionStorage.getItem(KEY)) || {}; } catch { this.s = {}; }
      if (!this.s.id || !Array.isArray(this.s.m)) this.s = { id: uid(), m: [] };
      const color = /^#([0-9a-f]{3}){1,2}$/i.test(d.color || '') ? d.color : '#1d4ed8';
      const root = this.attachShadow({ mode: 'open' });
      const wrap = h('div', { class: (this.inline ? 'inline' : '') + (d.position === 'bottom-left' ? ' left' : ''), style: '--c:' + color });
      this.fab = h('button', { class: 'fab', 'aria-label': t.open, 'aria-expanded': 'false', 'aria-controls': 'p', onclick: () => this.toggle(true) }, icon());
      this.log = h('div', { class: 'log', role: 'log', tabindex: '0', 'aria-label': d.title || t.title });
      this.err = h('p', { class: 'err', role: 'alert', hidden: true });
      this.q = h('textarea', { rows: '2', placeholder: t.ph, 'aria-label': t.ask, onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(this.q.value); }
      } });
      this.btn = h('button', { type: 'submit', text: t.send });
      const starters = (d.starters || '').split('|').map((s) => s.trim()).filter(Boolean).slice(0, 6);
      this.st = h('div', { class: 'st', role: 'group', 'aria-label': 'Suggestions' },
        ...starters.map((s) => h('button', { text: s, onclick: () => this.send(s) })));
      this.panel = h('div', { class: 'panel', id: 'p', role: this.inline ? 'region' : 'dialog', 'aria-labelledby': 'ttl', hidden: !this.inline,
        onkeydown: (e) => { if (e.key === 'Escape' && !this.inline) this.toggle(false); } },
        h('header', {}, h('h2', { id: 'ttl', text: d.title || t.title }),
          h('button', { text: '↺', title: t.reset, 'aria-label': t.reset, onclick: () => this.reset() }),
          this.inline ? '' : h('button', { text: '×', title: t.close, 'aria-label': t.close, onclick: () => this.toggle(false) })),
        this.log, this.st, this.err,
        h('form', { onsubmit: (e) => { e.preventDefault(); this.send(this.q.value); } },
          this.q, this.btn));
      wrap.append(h('style', { text: CSS }), this.inline ? '' : this.fab, this.panel);
      root.append(wrap);
      this.greeting = d.greeting || t.greeting;
      this.render();
      if (!this.inline && (this.s.open ?? (d.open != null && d.open !== 'false'))) this.toggle(true, false);
    }

    save() { try { sessionStorage.setItem(KEY, JSON.stringify(this.s)); } catch { /* storage full or blocked */ } }

    toggle(open, focus = true) {
      this.panel.hidden = !open;
      this.fab.hidden = open && innerWidth < 480;
      this.fab.setAttribute('aria-expanded', String(open));
      this.s.open = open; this.save();
      if (focus) (open ? this.q : this.fab).focus();
    }

    reset() { this.s.m = []; this.save(); this.showError(''); this.render(); this.q.focus(); }

    showError(msg) { this.err.textContent = msg; this.err.hidden = !msg; }

    render() {
      this.log.replaceChildren(h('div', { class: 'm b', text: this.greeting }));
      for (const m of this.s.m) this.bubble(m);
      this.st.hidden = this.s.m.length > 0;
    }

    bubble(m) {
      const el = h('div', { class: 'm ' + (m.role === 'user' ? 'u' : 'b') });
      if (m.role === 'user') el.textContent = m.content; else this.fill(el, m.content, m.citations || []);
      this.log.append(el);
      this.log.scrollTop = this.log.scrollHeight;
      return el;
    }

    // Answer text with each [n] as a button that shows source n's title and passage.
    fill(el, text, cites) {
      const box = h('div');
      el.replaceChildren();
      text.split(/\[(\d+)\]/).forEach((part, i) => {
        const c = i % 2 ? cites.find((x) => String(x.n) === part) : null;
        if (!c) { el.append(i % 2 ? `[${part}]` : part); return; }
        let q = null;
        const b = h('button', { class: 'cite', text: part, 'aria-expanded': 'false', 'aria-label': `Source ${c.n} : ${c.title}`,
          onclick: () => {
            if (!q) {
              q = h('div', { class: 'q' },
                h('strong', { text: `[${c.n}] ${c.title}${c.page ? ` — p. ${c.page}` : ''}` }),
                quote(c),
                h('a', { href: `${BASE}/?source=${encodeURIComponent(c.source)}&start=${c.start}&end=${c.end}`, target: '_blank', rel: 'noopener', text: this.t.doc }),
                ...(c.url ? [' · ', h('a', { href: /^https?:/.test(c.url) ? c.url : BASE + c.url, target: '_blank', rel: 'noopener', text: 'Source ↗' })] : []));
              box.append(q);
            } else q.hidden = !q.hidden;
            b.setAttribute('aria-expanded', String(!q.hidden));
            q.scrollIntoView({ block: 'nearest' });
          } });
        el.append(b);
      });
      el.append(box);
    }

    async send(question) {
      question = question.trim();
      if (this.busy || !question) return;
      const t = this.t;
      this.busy = this.btn.disabled = true;
      this.showError('');
      this.q.value = '';
      const history = this.s.m.slice(-6).map(({ role, content }) => ({ role, content }));
      const mine = { role: 'user', content: question };
      this.s.m.push(mine); this.st.hidden = true;
      const userEl = this.bubble(mine);
      const out = this.bubble({ role: 'assistant', content: '' });
      out.classList.add('w'); out.textContent = t.wait;
      this.log.setAttribute('aria-busy', 'true');
      let answer = null, cites = [], text = '';
      try {
        let res;
        try {
          res = await fetch(BASE + '/api/chat', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Passerelle-Session': this.s.id },
            // data-collection: checked on the server against this site's collections
            body: JSON.stringify({ question, history, collection: this.dataset.collection || null })
          });
        } catch { throw { m: await this.unreachable() }; }
        if (!res.ok) throw { m: await this.httpError(res) };
        const reader = res.body.getReader(), dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          for (let m; (m = /\r\n\r\n|\n\n|\r\r/.exec(buf)); ) {
            const block = buf.slice(0, m.index);
            buf = buf.slice(m.index + m[0].length);
            let ev = 'message', data = '';
            for (const line of block.split(/\r\n|\n|\r/)) {
              if (line.startsWith('event:')) ev = line.slice(6).trim();
              else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).replace(/^ /, '');
            }
            if (!data) continue;
            const p = JSON.parse(data);
            if (ev === 'queued') out.textContent = t.queue.replace('{p}', p.position).replace('{s}', Math.round(p.expected_s));
            else if (ev === 'sources') cites = p.citations || [];
            else if (ev === 'token') {
              if (!text) out.classList.remove('w');
              text += p.text; out.textContent = text;
              this.log.scrollTop = this.log.scrollHeight;
            } else if (ev === 'answer') answer = p;
            else if (ev === 'error') break;
          }
        }
        if (!answer) throw 0;
        const msg = { role: 'assistant', content: answer.answer, citations: answer.citations || cites };
        this.s.m.push(msg); this.save();
        out.classList.remove('w');
        this.fill(out, msg.content, msg.citations);
      } catch (e) {
        // Nothing is lost: the failed exchange is withdrawn and the question goes back in the box.
        this.s.m.splice(this.s.m.indexOf(mine), 1);
        userEl.remove(); out.remove();
        this.st.hidden = this.s.m.length > 0;
        if (!this.q.value) this.q.value = question;
        this.showError(e?.m || t.cut);
      } finally {
        this.log.removeAttribute('aria-busy');
        this.busy = this.btn.disabled = false;
        this.save();
      }
    }

    async httpError(res) {
      const t = this.t, s = res.status;
      let body = {};
      try { body = await res.json(); } catch { /* not JSON */ }
      if (s === 403) return t.e403;
      if (s === 429) return t.e429.replace('{s}', res.headers.get('Retry-After') || body.retry_after || 60);
      if (s === 413) return t.e413.replace('{n}', body.max_chars ? t.max.replace('{n}', body.max_chars) : '');
      if (s === 422) return t.e422;
      return t.e5xx;
    }

    // A fetch that fails outright is either a refused origin (CORS) or a dead server.
    async unreachable() {
      try {
        await fetch(BASE + '/api/health', { mode: 'no-cors', cache: 'no-store' });
        return this.t.e403;
      } catch {
        return this.t.net;
      }
    }
  }

  if (!customElements.get('passerelle-chat')) customElements.define('passerelle-chat', PasserelleChat);
  const mount = () => {
    if (document.querySelector('passerelle-chat')) return;
    const el = document.createElement('passerelle-chat');
    if (script) Object.assign(el.dataset, script.dataset);
    document.body.append(el);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
})();
