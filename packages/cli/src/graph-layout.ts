/**
 * A layered (Sugiyama-style) layout for drawing a DAG top to bottom, as `kiln graph` does:
 *
 *  1. layers by longest path from the sources (every edge points down at least one layer), then
 *     each node pulled down to just above its nearest reader, so a parameter or constant sits
 *     next to the op that reads it;
 *  2. edges spanning several layers are cut by dummy nodes, one per layer crossed, so they are
 *     routed between boxes and never through them;
 *  3. crossings reduced by ordering each layer by the barycenter of its neighbours, sweeping down
 *     and up several times and keeping the best order seen, then swapping neighbours in a layer
 *     wherever that removes crossings;
 *  4. x positions: packed in order, then pulled towards their neighbours' mean a few rounds with
 *     the minimum spacing kept (each node has its own space to the left and right of its centre,
 *     room for the label drawn beside its outgoing edge).
 */

/** A node to place: its size (`right` is the space it needs right of its centre, default w/2). */
export interface LayoutNode {
  readonly w: number;
  readonly h: number;
  readonly right?: number;
  /** Put the node in the last layer (outputs). */
  readonly sink?: boolean;
}

/** An edge between node indices. */
export interface LayoutEdge {
  readonly from: number;
  readonly to: number;
}

/** A placed node: the top-left corner, its layer and position in it. */
export interface PlacedNode {
  readonly x: number;
  readonly y: number;
  readonly layer: number;
}

/** An edge as a polyline of points: bottom of the source, the dummies' x in each crossed layer, top of the target. */
export interface RoutedEdge {
  readonly from: number;
  readonly to: number;
  /** x at the bottom of the source, then (x, top y, bottom y) through each layer crossed. */
  readonly through: readonly { x: number; top: number; bottom: number }[];
}

export interface Layout {
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly RoutedEdge[];
  readonly width: number;
  readonly height: number;
}

interface Slot {
  /** Index of a real node, or -1 for a dummy. */
  readonly node: number;
  readonly left: number;
  readonly right: number;
  x: number;
  order: number;
  readonly up: Slot[];
  readonly down: Slot[];
}

const DUMMY_HALF = 8;

/**
 * Lays out `nodes` and `edges` (a DAG) in layers from top to bottom, `rowGap` between layers and
 * at least `gap` between neighbours in a layer.
 *
 * @example
 * ```ts
 * const layout = layoutLayered([{ w: 80, h: 30 }, { w: 80, h: 30 }], [{ from: 0, to: 1 }]);
 * layout.nodes[1].layer; // 1
 * ```
 */
export function layoutLayered(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[], options: { gap?: number; rowGap?: number; sweeps?: number } = {}): Layout {
  const gap = options.gap ?? 24;
  const rowGap = options.rowGap ?? 48;
  const sweeps = options.sweeps ?? 8;
  const n = nodes.length;
  const preds: number[][] = nodes.map(() => []);
  const succs: number[][] = nodes.map(() => []);
  for (const e of edges) {
    preds[e.to].push(e.from);
    succs[e.from].push(e.to);
  }
  // 1. layers: longest path from the sources (nodes come in topological order)
  const layer = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) for (const p of preds[i]) layer[i] = Math.max(layer[i], layer[p] + 1);
  // pull sources and other nodes down to just above their nearest reader (reverse order keeps it valid)
  for (let i = n - 1; i >= 0; i--) {
    if (succs[i].length === 0 || nodes[i].sink) continue;
    const nearest = Math.min(...succs[i].map((s) => layer[s])) - 1;
    if (preds[i].length === 0 || nearest > layer[i]) layer[i] = Math.max(layer[i], nearest);
  }
  const last = Math.max(0, ...layer.filter((_, i) => !nodes[i].sink).map((l) => l + 1));
  nodes.forEach((node, i) => {
    if (node.sink) layer[i] = Math.max(last, ...preds[i].map((p) => layer[p] + 1));
  });
  const depth = Math.max(0, ...layer) + 1;

  // 2. slots per layer, dummies for long edges
  const rows: Slot[][] = Array.from({ length: depth }, () => []);
  const slotOf: Slot[] = nodes.map((node, i) => {
    const half = node.w / 2;
    const slot: Slot = { node: i, left: half, right: Math.max(half, node.right ?? half), x: 0, order: 0, up: [], down: [] };
    rows[layer[i]].push(slot);
    return slot;
  });
  const chains: Slot[][] = edges.map((e) => {
    const chain = [slotOf[e.from]];
    for (let l = layer[e.from] + 1; l < layer[e.to]; l++) {
      const dummy: Slot = { node: -1, left: DUMMY_HALF, right: DUMMY_HALF, x: 0, order: 0, up: [], down: [] };
      rows[l].push(dummy);
      chain.push(dummy);
    }
    chain.push(slotOf[e.to]);
    for (let k = 1; k < chain.length; k++) {
      chain[k - 1].down.push(chain[k]);
      chain[k].up.push(chain[k - 1]);
    }
    return chain;
  });

  // 3. crossing reduction: barycenter sweeps, keep the best ordering
  const number = (row: Slot[]) => row.forEach((s, k) => (s.order = k));
  rows.forEach(number);
  const crossings = (): number => {
    let total = 0;
    for (let l = 0; l + 1 < depth; l++) {
      const pairs: [number, number][] = [];
      for (const s of rows[l]) for (const t of s.down) pairs.push([s.order, t.order]);
      for (let a = 0; a < pairs.length; a++) {
        for (let b = a + 1; b < pairs.length; b++) {
          if ((pairs[a][0] - pairs[b][0]) * (pairs[a][1] - pairs[b][1]) < 0) total++;
        }
      }
    }
    return total;
  };
  const barycenter = (s: Slot, side: Slot[]) => (side.length ? side.reduce((acc, t) => acc + t.order, 0) / side.length : s.order);
  let best = rows.map((row) => [...row]);
  let bestCrossings = crossings();
  for (let sweep = 0; sweep < sweeps && bestCrossings > 0; sweep++) {
    const down = sweep % 2 === 0;
    for (let k = 1; k < depth; k++) {
      const l = down ? k : depth - 1 - k;
      const row = rows[l];
      const keys = new Map(row.map((s) => [s, barycenter(s, down ? s.up : s.down)]));
      row.sort((a, b) => keys.get(a)! - keys.get(b)! || a.order - b.order);
      number(row);
    }
    const c = crossings();
    if (c < bestCrossings) {
      bestCrossings = c;
      best = rows.map((row) => [...row]);
    }
  }
  best.forEach((row, l) => {
    rows[l] = row;
    number(row);
  });
  // then swap neighbours wherever that removes crossings (the "transpose" step), until none does
  /** Crossings between the edges of u and of v (u left of v) towards one side. */
  const pairCrossings = (u: Slot[], v: Slot[]) => {
    let c = 0;
    for (const a of u) for (const b of v) if (a.order > b.order) c++;
    return c;
  };
  for (let pass = 0, improved = true; improved && pass < 8; pass++) {
    improved = false;
    for (const row of rows) {
      for (let k = 0; k + 1 < row.length; k++) {
        const [u, v] = [row[k], row[k + 1]];
        const now = pairCrossings(u.up, v.up) + pairCrossings(u.down, v.down);
        const swapped = pairCrossings(v.up, u.up) + pairCrossings(v.down, u.down);
        if (swapped < now) {
          [row[k], row[k + 1]] = [v, u];
          number(row);
          improved = true;
        }
      }
    }
  }

  // 4. x: pack, then pull towards neighbours with spacing kept
  const pack = (row: Slot[]) => {
    for (let k = 1; k < row.length; k++) row[k].x = Math.max(row[k].x, row[k - 1].x + row[k - 1].right + gap + row[k].left);
  };
  const packBack = (row: Slot[]) => {
    for (let k = row.length - 2; k >= 0; k--) row[k].x = Math.min(row[k].x, row[k + 1].x - row[k + 1].left - gap - row[k].right);
  };
  for (const row of rows) {
    let x = 0;
    for (const s of row) {
      s.x = x + s.left;
      x = s.x + s.right + gap;
    }
  }
  const mean = (xs: Slot[]) => xs.reduce((acc, t) => acc + t.x, 0) / xs.length;
  for (let round = 0; round < 12; round++) {
    const down = round % 2 === 0;
    for (let k = 0; k < depth; k++) {
      const row = rows[down ? k : depth - 1 - k];
      for (const s of row) {
        const near = [...(down ? s.up : s.down), ...(round > 8 ? (down ? s.down : s.up) : [])];
        if (near.length) s.x = mean(near);
      }
      // keep the order and spacing: push right from the left, then left from the right, and average
      const wanted = row.map((s) => s.x);
      pack(row);
      const right = row.map((s) => s.x);
      row.forEach((s, i) => (s.x = wanted[i]));
      packBack(row);
      row.forEach((s, i) => (s.x = (s.x + right[i]) / 2));
      pack(row);
    }
  }
  // straighten chains: a node whose only upper neighbour has it as its only lower one sits right under it
  for (let l = 1; l < depth; l++) {
    const row = rows[l];
    for (const s of row) if (s.up.length === 1 && s.up[0].down.length === 1) s.x = s.up[0].x;
    pack(row);
  }
  // shift to start at 0
  const minX = Math.min(...rows.flatMap((row) => row.map((s) => s.x - s.left)));
  for (const row of rows) for (const s of row) s.x -= minX;
  const width = Math.max(0, ...rows.flatMap((row) => row.map((s) => s.x + s.right)));

  // y: rows as high as their highest node
  const rowTop: number[] = [];
  const rowH: number[] = [];
  let y = 0;
  for (const row of rows) {
    rowTop.push(y);
    const h = Math.max(0, ...row.map((s) => (s.node >= 0 ? nodes[s.node].h : 0)));
    rowH.push(h);
    y += h + rowGap;
  }
  const placed = nodes.map((node, i) => {
    const s = slotOf[i];
    const l = layer[i];
    return { x: s.x - node.w / 2, y: rowTop[l] + (rowH[l] - node.h) / 2, layer: l };
  });
  const routed = edges.map((e, k) => ({
    from: e.from,
    to: e.to,
    through: chains[k].slice(1, -1).map((s, j) => {
      const l = layer[e.from] + 1 + j;
      return { x: s.x, top: rowTop[l], bottom: rowTop[l] + rowH[l] };
    }),
  }));
  return { nodes: placed, edges: routed, width, height: Math.max(0, y - rowGap) };
}
