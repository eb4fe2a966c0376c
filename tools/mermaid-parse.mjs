// Parse every ```mermaid block of a Markdown file with mermaid's own parser,
// under jsdom, offline. Exit 0 when all parse; 1 with the error otherwise.
// Usage: node mermaid-parse.mjs FILE.md...
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const k of ["navigator", "Element", "HTMLElement", "SVGElement", "DOMParser", "Node", "MutationObserver"]) {
  if (!(k in globalThis)) {
    Object.defineProperty(globalThis, k, { value: dom.window[k], configurable: true, writable: true });
  }
}

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let total = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const [i, block] of blocks.entries()) {
    total++;
    try {
      const r = await mermaid.parse(block);
      console.log(`${file} block ${i + 1}: ok (${r.diagramType})`);
    } catch (e) {
      failed++;
      console.log(`${file} block ${i + 1}: ${String(e && e.message ? e.message : e)}`);
    }
  }
}
console.log(`${total} blocks, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
