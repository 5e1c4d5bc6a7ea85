// Incremental static regeneration: prerendered at build time, regenerated at most every 5 s
// after a request, and written back into the release's .next/server/app/isr.html.
export const revalidate = 5;

export default function Isr() {
  return <p>generated at {Date.now()}</p>;
}
