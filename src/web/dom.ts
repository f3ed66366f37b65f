/**
 * Building the page's elements. Text only ever goes in through `textContent` (never HTML): subjects,
 * names and folder names are untrusted input, and this is the one place that turns them into DOM.
 */

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>

export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

const SVG = 'http://www.w3.org/2000/svg'

export const svg = (tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement => {
  const el = document.createElementNS(SVG, tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

const setAttrs = (el: Element, attrs: Attrs): void => {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v)
    // Attribute names are the page's own constants; values are set as text, never parsed as markup.
    else el.setAttribute(k, v === true ? '' : String(v))
  }
}

const append = (el: Element, children: Child[]): void => {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c)
  }
}

/** Replaces the children of the element with `id`. */
export const fill = (id: string, ...children: Child[]): HTMLElement => {
  const el = byId(id)
  el.replaceChildren()
  append(el, children)
  return el
}

export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`page: no element #${id}`)
  return el as T
}

export const show = (id: string, visible: boolean): void => {
  byId(id).hidden = !visible
}
