/** A seeded Fisher–Yates shuffle of 0…n−1 (tfjs's own shuffle uses Math.random, which cannot be seeded). */
export function permutation(n: number, random: () => number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
