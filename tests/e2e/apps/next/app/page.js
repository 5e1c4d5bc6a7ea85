export default function Home() {
  return <p>next home</p>;
}
