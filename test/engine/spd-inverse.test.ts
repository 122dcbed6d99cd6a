import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/domain/random.ts';
import { easeFromGram } from '../../src/engine/collaborative.ts';
import { invertSpdInPlace } from '../../src/engine/spd-inverse.ts';

/** A Gram matrix XᵀX + ridge of a random sparse 0/1 matrix, as EASE inverts it. */
function gramOf(users: number, items: number, seed: number, ridge: number): Matrix {
  const rng = createRng(seed);
  const x = Matrix.zeros(users, items);
  for (let u = 0; u < users; u++) for (let i = 0; i < items; i++) if (rng.bernoulli(0.2)) x.set(u, i, 1);
  return x.transpose().mmul(x).add(Matrix.eye(items, items).mul(ridge));
}

describe('invertSpdInPlace', () => {
  it('equals ml-matrix’s LU inverse to 1e-12 on sizes below, at and across its row blocks', () => {
    for (const [n, seed] of [
      [1, 1],
      [5, 2],
      [32, 3],
      [33, 4],
      [97, 5],
    ] as const) {
      const g = gramOf(3 * n + 5, n, seed, 0.5);
      const a = Float64Array.from(g.to1DArray());
      invertSpdInPlace(a, n);
      const want = inverse(g);
      let worst = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          worst = Math.max(worst, Math.abs((a[i * n + j] as number) - want.get(i, j)));
      expect(worst).toBeLessThan(1e-12);
      // Symmetric to the last bit: both halves are written from the same sums.
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(a[i * n + j]).toBe(a[j * n + i]);
    }
  });

  it('refuses a matrix that is not positive definite, and a buffer too small for its size', () => {
    expect(() => invertSpdInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
    expect(() => invertSpdInPlace(new Float64Array(3), 2)).toThrow(/3 values for a 2×2 matrix/);
  });
});

describe('easeFromGram', () => {
  it('is the closed form B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, to 1e-9 on a tiny matrix', () => {
    const items = 6;
    const gram = gramOf(40, items, 9, 0);
    let trace = 0;
    for (let a = 0; a < items; a++) trace += gram.get(a, a);
    const lambdaScale = 0.7;
    // ml-matrix adds in place: the ridge goes on a copy.
    const p = inverse(gram.clone().add(Matrix.eye(items, items).mul((lambdaScale * trace) / items)));
    const b = easeFromGram(Float64Array.from(gram.to1DArray()), items, lambdaScale);
    for (let j = 0; j < items; j++) {
      for (let i = 0; i < items; i++) {
        const want = i === j ? 0 : -p.get(j, i) / p.get(i, i);
        expect(Math.abs((b[j * items + i] as number) - want)).toBeLessThan(1e-9);
      }
    }
  });

  it('with a dropout rate p, is the emphasised denoising closed form: Λ = λI + p/(1−p)·diag(XᵀX) (EDLAE)', () => {
    const items = 6;
    const gram = gramOf(40, items, 11, 0);
    let trace = 0;
    for (let a = 0; a < items; a++) trace += gram.get(a, a);
    const [lambdaScale, dropout] = [0.3, 0.9];
    const ridge = gram.clone();
    for (let a = 0; a < items; a++) {
      ridge.set(a, a, gram.get(a, a) * (1 + dropout / (1 - dropout)) + (lambdaScale * trace) / items);
    }
    const p = inverse(ridge);
    const b = easeFromGram(Float64Array.from(gram.to1DArray()), items, lambdaScale, dropout);
    const plain = easeFromGram(Float64Array.from(gram.to1DArray()), items, lambdaScale);
    let moved = 0;
    for (let j = 0; j < items; j++) {
      for (let i = 0; i < items; i++) {
        const want = i === j ? 0 : -p.get(j, i) / p.get(i, i);
        expect(Math.abs((b[j * items + i] as number) - want)).toBeLessThan(1e-9);
        moved = Math.max(moved, Math.abs((b[j * items + i] as number) - (plain[j * items + i] as number)));
      }
    }
    // The dropout term is not a no-op: the weights differ from plain EASE at the same λ.
    expect(moved).toBeGreaterThan(0.01);
  });
});
