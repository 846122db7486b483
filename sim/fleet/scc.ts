// Strongly connected components (Tarjan), iterative: fleets of 10,000 nodes
// would overflow the call stack with the recursive textbook version. The graph
// is given by a successor function so callers can describe it compactly
// (islands.ts uses a node + destination-class graph, not an N x N matrix).

/** Successors of vertex v (any array-like of vertex numbers). */
export type Successors = (v: number) => ArrayLike<number>;

export interface Components {
  /** Component number of every vertex (0..count-1, in Tarjan's completion order). */
  readonly comp: Int32Array;
  readonly count: number;
}

/** Tarjan's algorithm with an explicit stack of (vertex, next edge position). */
export function stronglyConnected(n: number, succ: Successors): Components {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n); // Tarjan's vertex stack
  let sp = 0;
  // Call stack: vertex, its successor list, and the next position in it.
  const callV = new Int32Array(n);
  const callPos = new Int32Array(n);
  const callSucc: ArrayLike<number>[] = new Array(n);
  let next = 0;
  let count = 0;

  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    let depth = 0;
    callV[0] = root;
    callPos[0] = 0;
    callSucc[0] = succ(root);
    index[root] = low[root] = next++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const v = callV[depth] as number;
      const list = callSucc[depth] as ArrayLike<number>;
      const pos = callPos[depth] as number;
      if (pos < list.length) {
        callPos[depth] = pos + 1;
        const w = list[pos] as number;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack[sp++] = w;
          onStack[w] = 1;
          depth++;
          callV[depth] = w;
          callPos[depth] = 0;
          callSucc[depth] = succ(w);
        } else if (onStack[w] === 1 && (index[w] as number) < (low[v] as number)) {
          low[v] = index[w] as number;
        }
        continue;
      }
      // v is finished: pop a component if it is a root, then return to the caller.
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack[--sp] as number;
          onStack[w] = 0;
          comp[w] = count;
        } while (w !== v);
        count++;
      }
      callSucc[depth] = [];
      depth--;
      if (depth >= 0) {
        const parent = callV[depth] as number;
        if ((low[v] as number) < (low[parent] as number)) low[parent] = low[v] as number;
      }
    }
  }
  return { comp, count };
}
