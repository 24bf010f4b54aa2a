// A piscina task for worker-views.test.ts: answers its number doubled.
export default function double (n) {
  return n * 2
}
