declare module '*.html' {
  /** The file's text (esbuild `loader: { '.html': 'text' }`). */
  const text: string;
  export default text;
}
