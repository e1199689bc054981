// The calls the benchmark page makes of headlight (headlight.mjs), on the wasm build's exports:
// made by the page itself on one thread, by worker.mjs on several.
export function calls({ Bench, memory_bytes }) {
  let bench;
  return {
    load: (config, weights) => { bench = new Bench(config, weights); },
    forward: (n, capture) => bench.forward(n, capture),
    read_like_the_app: (n) => bench.read_like_the_app(n),
    generate: (prompt, steps) => bench.generate(prompt, steps),
    memory_bytes: () => memory_bytes(),
    free: () => bench.free(),
  };
}
