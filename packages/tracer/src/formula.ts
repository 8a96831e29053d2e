/**
 * Numbers of a graph as functions of its dynamic sizes s0, s1, …: polynomials of degree ≤ 2
 * (a reshape that flattens [n, m] makes n·m; two dimensions of equal size share one symbol, so
 * products become squares) or reciprocals of one (a mean's 1/n). Fitted exactly from traces at
 * the sizes {@link probePoints} gives, and checked at one more.
 */

/** The sizes multiplied in one term: `[]` (the constant), `[j]`, `[j, j]`, `[j, l]` with j < l. */
export type Monomial = readonly number[];

/** The terms a formula over `k` sizes may have, in a fixed order. */
export function monomials(k: number): Monomial[] {
  const out: Monomial[] = [[]];
  for (let j = 0; j < k; j++) out.push([j]);
  for (let j = 0; j < k; j++) for (let l = j; l < k; l++) out.push([j, l]);
  return out;
}

/**
 * The sizes to trace at, from the call's sizes `s`: `s`; each size + 1 and + 2; each pair of
 * sizes + 1 — as many points as {@link monomials}, which determine the polynomial — and last all
 * sizes at 2·s + 3, to check the fit away from the others.
 */
export function probePoints(s: readonly number[]): number[][] {
  const bump = (...js: number[]) => s.map((v, i) => v + js.filter((j) => j === i).length);
  const out = [[...s], ...s.map((_, j) => bump(j))];
  for (let j = 0; j < s.length; j++) for (let l = j; l < s.length; l++) out.push(bump(j, l));
  out.push(s.map((v) => 2 * v + 3));
  return out;
}

const value = (m: Monomial, sizes: readonly number[]) => m.reduce((acc, j) => acc * sizes[j], 1);

/** `Σ coefficient·monomial`, or its reciprocal; `integer` numbers (shapes, int attrs) must come out whole. */
export class Formula {
  constructor(
    readonly terms: readonly (readonly [Monomial, number])[],
    /** How many sizes it is a function of. */
    readonly k: number,
    readonly reciprocal: boolean,
    readonly integer: boolean,
    /** Where the number sits, for messages: `node 3 (reshape) shape[0]`. */
    readonly where: string,
  ) {}

  /** The constant term. */
  get c(): number {
    return this.terms.find(([m]) => m.length === 0)?.[1] ?? 0;
  }

  /** The coefficient of each size (the linear terms). */
  get a(): number[] {
    return Array.from({ length: this.k }, (_, j) => this.terms.find(([m]) => m.length === 1 && m[0] === j)?.[1] ?? 0);
  }

  /** Whether it has no product or square terms (then it is `c + Σ a[j]·s[j]`, or the reciprocal). */
  get isAffine(): boolean {
    return this.terms.every(([m]) => m.length < 2);
  }

  at(sizes: readonly number[]): number {
    const v = this.terms.reduce((acc, [m, c]) => acc + c * value(m, sizes), 0);
    return this.reciprocal ? 1 / v : v;
  }

  /** `2·s0 + 1`, `s0·s1`, `s0²`, `1/s0`. */
  toString(): string {
    const name = (m: Monomial) => (m.length === 2 && m[0] === m[1] ? `s${m[0]}²` : m.map((j) => `s${j}`).join('·'));
    const parts = [...this.terms].filter(([, c]) => c !== 0).sort(([a], [b]) => b.length - a.length || a.join().localeCompare(b.join()));
    const text = parts.map(([m, c]) => (m.length === 0 ? String(c) : `${c === 1 ? '' : c === -1 ? '-' : `${c}·`}${name(m)}`));
    const sum = (text.join(' + ') || '0').replace(/\+ -/g, '- ');
    return this.reciprocal ? (parts.length === 1 && parts[0][0].length === 1 && parts[0][1] === 1 ? `1/${sum}` : `1/(${sum})`) : sum;
  }
}

/**
 * Fits the values a number took at `points` (from {@link probePoints}): a polynomial through all
 * but the last point, kept if it also gives the last; else the same for the reciprocals.
 * Returns undefined when neither fits. With only the base, one point per size and a check, the
 * polynomial is affine.
 */
export function fitFormula(values: readonly number[], points: readonly (readonly number[])[], integer: boolean, where: string): Formula | undefined {
  const k = points[0].length;
  // Points enough for the quadratic terms, as probePoints gives; else (s, each size + 1, a check) affine.
  const all = monomials(k);
  const terms = points.length > all.length ? all : all.filter((m) => m.length < 2);
  const fitting = points.slice(0, terms.length);
  for (const reciprocal of [false, true]) {
    const ys = values.map((v) => (reciprocal ? 1 / v : v));
    if (!ys.every(Number.isFinite)) continue;
    const coefficients = solve(fitting.map((p) => terms.map((m) => value(m, p))), ys.slice(0, terms.length));
    if (!coefficients) continue;
    const f = new Formula(terms.map((m, i) => [m, snap(coefficients[i])] as const).filter(([, c]) => c !== 0), k, reciprocal, integer, where);
    if (points.every((p, i) => close(f.at(p), values[i]))) return f;
  }
  return undefined;
}

/** Solves the square system `a·x = b` by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (m[pivot][col] === 0) return undefined;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      if (f !== 0) for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Rounds to an integer when within rounding error of one (coefficients of shape arithmetic). */
function snap(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) <= 1e-9 * Math.max(1, Math.abs(x)) ? r : x;
}

function close(x: number, y: number): boolean {
  return Object.is(x, y) || Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(y));
}
