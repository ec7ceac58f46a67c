// Vite `?raw` imports: a file's text (used to compare committed config with code).
declare module "*?raw" {
  const text: string;
  export default text;
}
