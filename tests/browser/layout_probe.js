// The layout detector of tests/browser/test_layout.py, run in the page by
// Playwright's page.evaluate(). It knows nothing about this site's pages:
// it measures every piece of visible text, the text that CSS generates
// (::before / ::after) included, and reports
//   - "page-scroll": the page is wider than the viewport (it scrolls sideways);
//   - "off-screen":  a character lies left or right of the viewport;
//   - "clipped":     a character is cut off by a box with overflow: hidden/clip;
//   - "spills":      a character sticks out of a box that draws a border or a
//                    background around it (a tile, a badge, a call-out);
//   - "overlap":     characters of two different pieces of text overlap.
//
// Form controls (text fields, selects) count as text, by their box.
// Text is measured line by line with Range.getClientRects(); where a line box
// looks wrong, character by character, so that a hanging space at the end of
// a line is not taken for text. Generated text has no Range: each text-bearing
// pseudo-element is replaced for the measurement by a real element carrying
// all of its computed style and the same text, in the same place in the box
// tree, and the pseudo-element is switched off (a constructable style sheet,
// which the site's strict CSP allows); everything is put back afterwards.
//
// Not counted as visible: text in elements that are display: none,
// visibility: hidden or opacity: 0; text inside a box 2 px or smaller
// (the "visually hidden" pattern); text of an absolutely positioned box that
// lies wholly above or left of the page (the skip link, a stacked table's
// header row). Text scrolled out of a scrolling box (overflow: auto/scroll)
// is reachable and only its shown part is measured.
({ highlight = false } = {}) => {
  const EPS = 0.5; // px: sub-pixel rounding
  const viewportWidth = document.documentElement.clientWidth;
  const problems = [];
  const describe = (el) => {
    const parts = [];
    for (let node = el; node && node !== document.body && parts.length < 4; node = node.parentElement) {
      let part = node.localName === "probe-text" ? node.dataset.pseudo : node.localName;
      if (node.id) part += `#${node.id}`;
      else if (node.classList && node.classList.length && node.localName !== "probe-text") {
        part += "." + [...node.classList].slice(0, 2).join(".");
      }
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const box = (r) => ({
    x: Math.round(r.left),
    y: Math.round(r.top + window.scrollY),
    w: Math.round(r.right - r.left),
    h: Math.round(r.bottom - r.top),
  });

  // 1. Does the page scroll sideways?
  const pageWidth = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  if (pageWidth > viewportWidth + EPS) {
    // The innermost boxes that reach past the right edge say why.
    const wide = [...document.body.querySelectorAll("*")].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > viewportWidth + EPS && ![...el.children].some((c) => c.getBoundingClientRect().right > viewportWidth + EPS);
    });
    const names = wide.slice(0, 3).map((el) => `${describe(el)} (to ${Math.round(el.getBoundingClientRect().right)}px)`);
    problems.push({ kind: "page-scroll", text: "", where: "html", detail: `the page is ${pageWidth}px wide in a ${viewportWidth}px viewport; widest: ${names.join(", ") || "text, below"}` });
  }

  // 2. Generated text becomes real text for the measurement.
  const quoted = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|attr\(\s*([\w-]+)\s*\)|(open-quote|close-quote)|(counters?\([^)]*\))/g;
  const generatedText = (el, value) => {
    if (!value || value === "none" || value === "normal") return "";
    let text = "";
    for (const m of value.matchAll(quoted)) {
      if (m[1] !== undefined || m[2] !== undefined) {
        text += (m[1] ?? m[2]).replace(/\\([0-9a-fA-F]{1,6})\s?/g, (_, hex) => String.fromCodePoint(parseInt(hex, 16))).replace(/\\(.)/g, "$1");
      } else if (m[3]) text += el.getAttribute(m[3]) || "";
      else if (m[4]) text += m[4] === "open-quote" ? "“" : "”";
      else if (m[5]) text += "0";
    }
    return text;
  };
  const pseudos = [];
  for (const el of document.body.querySelectorAll("*")) {
    for (const which of ["::before", "::after"]) {
      const style = getComputedStyle(el, which);
      if (style.display === "none") continue;
      const text = generatedText(el, style.content);
      if (!/\S/.test(text)) continue;
      const copy = [];
      for (let i = 0; i < style.length; i++) {
        const name = style[i];
        if (name !== "content") copy.push([name, style.getPropertyValue(name)]);
      }
      pseudos.push({ el, which, text, copy });
    }
  }
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(
    "[data-probe-before]::before { content: none !important; }\n" +
    "[data-probe-after]::after { content: none !important; }"
  );
  const adopted = document.adoptedStyleSheets;
  document.adoptedStyleSheets = [...adopted, sheet];
  const made = [];
  for (const { el, which, text, copy } of pseudos) {
    const stand = document.createElement("probe-text");
    stand.dataset.pseudo = which;
    for (const [name, value] of copy) stand.style.setProperty(name, value);
    stand.textContent = text;
    if (which === "::before") {
      el.setAttribute("data-probe-before", "");
      el.insertBefore(stand, el.firstChild);
    } else {
      el.setAttribute("data-probe-after", "");
      el.appendChild(stand);
    }
    made.push(stand);
  }

  const overlays = [];
  try {
    // 3. Every visible piece of text, line by line.
    const clipCache = new Map();
    // A box a reader sees the edges of: a border or a background of its own.
    const opaque = (colour) => colour && colour !== "transparent" && !/rgba\([^)]*,\s*0\)$/.test(colour);
    const drawn = (el, style) => {
      if (style.display === "inline" || style.display === "contents") return false;
      if (opaque(style.backgroundColor) || style.backgroundImage !== "none") return true;
      return ["Top", "Right", "Bottom", "Left"].some(
        (side) => parseFloat(style[`border${side}Width`]) > 0 && style[`border${side}Style`] !== "none" && opaque(style[`border${side}Color`])
      );
    };
    // What limits what is shown of an element's content: {hidden: true} when
    // it is deliberately out of sight, else the rectangle of the nearest
    // scrolling boxes, and the boxes that cut their content off.
    const clipsOf = (el) => {
      if (clipCache.has(el)) return clipCache.get(el);
      let result;
      const parent = el.parentElement;
      const outer = parent && parent !== document.documentElement ? clipsOf(parent) : { hidden: false, scroll: null, cutters: [], frames: [] };
      if (outer.hidden) result = outer;
      else {
        const style = getComputedStyle(el);
        const rect = el.getBoundingClientRect();
        const positioned = style.position === "absolute" || style.position === "fixed";
        if (positioned && (rect.right <= 0 || rect.bottom + window.scrollY <= 0)) result = { hidden: true };
        else {
          const overflows = [style.overflowX, style.overflowY];
          const clips = overflows.some((v) => v !== "visible");
          if (clips && (rect.width <= 2 || rect.height <= 2)) result = { hidden: true };
          else if (style.clipPath && style.clipPath !== "none" && (rect.width <= 2 || rect.height <= 2)) result = { hidden: true };
          else if (el === document.body) result = outer;
          else if (!clips) result = drawn(el, style) ? { ...outer, frames: [...outer.frames, { el, rect }] } : outer;
          else {
            const scrolls = overflows.some((v) => v === "auto" || v === "scroll");
            const inner = {
              left: rect.left + el.clientLeft,
              top: rect.top + el.clientTop,
              right: rect.left + el.clientLeft + el.clientWidth,
              bottom: rect.top + el.clientTop + el.clientHeight,
            };
            if (scrolls) {
              const s = outer.scroll;
              result = {
                hidden: false,
                cutters: outer.cutters,
                frames: outer.frames,
                scroll: s ? { left: Math.max(s.left, inner.left), top: Math.max(s.top, inner.top), right: Math.min(s.right, inner.right), bottom: Math.min(s.bottom, inner.bottom) } : inner,
              };
            } else {
              result = { hidden: false, scroll: outer.scroll, cutters: [...outer.cutters, { el, rect: inner }], frames: outer.frames };
            }
          }
        }
      }
      clipCache.set(el, result);
      return result;
    };

    const fragments = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => (/\S/.test(node.data) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
    });
    const range = document.createRange();
    for (let node = walker.nextNode(), index = 0; node; node = walker.nextNode(), index++) {
      const el = node.parentElement;
      if (!el || el.closest("script, style, noscript, template, select, textarea, svg")) continue;
      if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      const clips = clipsOf(el);
      if (clips.hidden) continue;
      const first = node.data.search(/\S/);
      const last = node.data.length - node.data.split("").reverse().join("").search(/\S/);
      range.setStart(node, first);
      range.setEnd(node, last);
      for (const r of range.getClientRects()) {
        if (r.width < 1 || r.height < 1) continue;
        let shown = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
        if (clips.scroll) {
          const s = clips.scroll;
          shown = { left: Math.max(shown.left, s.left), top: Math.max(shown.top, s.top), right: Math.min(shown.right, s.right), bottom: Math.min(shown.bottom, s.bottom) };
          if (shown.right - shown.left < 1 || shown.bottom - shown.top < 1) continue;
        }
        fragments.push({ node, index, el, line: r, shown, clips });
      }
    }

    // Form controls: their box stands for their text.
    for (const el of document.body.querySelectorAll("input:not([type=hidden], [type=checkbox], [type=radio]), select, textarea")) {
      if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      // What holds the control, not the control itself, which clips its own text.
      const clips = clipsOf(el.parentElement);
      if (clips.hidden) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) continue;
      fragments.push({ node: el, index: -1 - fragments.length, el, line: r, shown: { left: r.left, top: r.top, right: r.right, bottom: r.bottom }, clips, control: true });
    }

    // The characters of a fragment (not spaces) as rectangles, for a closer look.
    const characters = (fragment) => {
      if (fragment.control) return [fragment.line];
      const out = [];
      const { node, line } = fragment;
      const data = node.data;
      for (let i = 0; i < data.length; ) {
        const code = data.codePointAt(i);
        const size = code > 0xffff ? 2 : 1;
        if (!/\s/.test(data[i])) {
          range.setStart(node, i);
          range.setEnd(node, i + size);
          for (const r of range.getClientRects()) {
            if (r.width < 0.5 || r.height < 0.5) continue;
            // Only the characters of this line.
            if (r.top >= line.bottom - EPS || r.bottom <= line.top + EPS) continue;
            if (r.right <= line.left - EPS || r.left >= line.right + EPS) continue;
            out.push(r);
          }
        }
        i += size;
      }
      return out;
    };
    const snippet = (fragment) =>
      fragment.control ? `<${fragment.el.localName}> ${fragment.el.value || fragment.el.placeholder || ""}`.trim().slice(0, 60) : fragment.node.data.replace(/\s+/g, " ").trim().slice(0, 60);
    const mark = (r, colour) => {
      if (!highlight) return;
      const div = document.createElement("div");
      div.style.cssText = `position:absolute;z-index:2147483647;pointer-events:none;left:${r.left + window.scrollX}px;top:${r.top + window.scrollY}px;width:${r.right - r.left}px;height:${r.bottom - r.top}px;outline:2px solid ${colour};background:rgba(255,0,0,0.12)`;
      document.body.appendChild(div);
      overlays.push(div);
    };

    // 4. Text that leaves the screen, or is cut off by its box.
    for (const fragment of fragments) {
      const { shown, clips } = fragment;
      const outside = shown.left < -EPS || shown.right > viewportWidth + EPS;
      const beyond = (r, rect) => r.left < rect.left - EPS || r.right > rect.right + EPS || r.top < rect.top - EPS || r.bottom > rect.bottom + EPS;
      const cut = clips.cutters.filter(({ rect }) => beyond(shown, rect));
      // A frame is left when the text leaves it; the part hidden by a
      // scrolling box is not seen spilling.
      const spilt = clips.frames.filter(({ rect }) => beyond(shown, rect)).reverse();
      if (!outside && !cut.length && !spilt.length) continue;
      const chars = characters(fragment).map((r) => {
        const s = clips.scroll;
        return s ? { left: Math.max(r.left, s.left), top: Math.max(r.top, s.top), right: Math.min(r.right, s.right), bottom: Math.min(r.bottom, s.bottom) } : r;
      }).filter((r) => r.right - r.left >= 0.5 && r.bottom - r.top >= 0.5);
      if (outside) {
        const off = chars.filter((r) => r.left < -EPS || r.right > viewportWidth + EPS);
        if (off.length) {
          problems.push({ kind: "off-screen", text: snippet(fragment), where: describe(fragment.el), box: box(fragment.line), detail: `${off.length} character(s) outside 0–${viewportWidth}px` });
          off.forEach((r) => mark(r, "red"));
        }
      }
      for (const { el, rect } of cut) {
        const off = chars.filter((r) => beyond(r, rect));
        if (off.length) {
          problems.push({ kind: "clipped", text: snippet(fragment), where: describe(fragment.el), box: box(fragment.line), detail: `${off.length} character(s) cut off by ${describe(el)}` });
          off.forEach((r) => mark(r, "orange"));
        }
      }
      for (const { el, rect } of spilt) {
        const off = chars.filter((r) => beyond(r, rect));
        if (off.length) {
          problems.push({ kind: "spills", text: snippet(fragment), where: describe(fragment.el), box: box(fragment.line), detail: `${off.length} character(s) outside the box of ${describe(el)}` });
          off.forEach((r) => mark(r, "orange"));
          break; // the innermost frame it leaves says enough
        }
      }
    }

    // 5. Text over text: a sweep over the fragments sorted by their top edge.
    const area = (a, b) => {
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      return w > 0 && h > 0 ? { w, h } : null;
    };
    // Lines set tighter than the font's own height touch by a few pixels;
    // real overlaps share most of a line's height.
    const serious = (a, b) => {
      const o = area(a, b);
      if (!o) return false;
      const h = Math.min(a.bottom - a.top, b.bottom - b.top);
      return o.w > 1 && o.h > Math.max(2, 0.35 * h);
    };
    const sorted = [...fragments].sort((a, b) => a.shown.top - b.shown.top);
    const reported = new Set();
    for (let i = 0; i < sorted.length; i++) {
      const a = sorted[i];
      for (let j = i + 1; j < sorted.length && sorted[j].shown.top < a.shown.bottom; j++) {
        const b = sorted[j];
        if (a.node === b.node || !serious(a.shown, b.shown)) continue;
        const key = `${a.index}:${b.index}`;
        if (reported.has(key)) continue;
        const ca = characters(a);
        const cb = characters(b);
        const hits = ca.filter((ra) => cb.some((rb) => serious(ra, rb)));
        if (!hits.length) continue;
        reported.add(key);
        problems.push({ kind: "overlap", text: `${snippet(a)} ⟷ ${snippet(b)}`, where: `${describe(a.el)} ⟷ ${describe(b.el)}`, box: box(a.line), detail: `${hits.length} character(s) overlap` });
        hits.forEach((r) => mark(r, "red"));
        cb.filter((rb) => ca.some((ra) => serious(ra, rb))).forEach((r) => mark(r, "blue"));
      }
    }
    return { viewportWidth, fragments: fragments.length, generated: made.length, problems };
  } finally {
    // Put the page back as it was (the highlights stay for a screenshot;
    // the caller removes them with window.__layoutProbeClear()).
    for (const stand of made) stand.remove();
    for (const { el } of pseudos) {
      el.removeAttribute("data-probe-before");
      el.removeAttribute("data-probe-after");
    }
    document.adoptedStyleSheets = adopted;
    window.__layoutProbeClear = () => overlays.forEach((div) => div.remove());
  }
}
