/**
 * Key files leave the browser only as downloads the user saves (docs/web.md): no
 * upload, no server round trip.
 */

/** Saves `text` as a file named `name` through the browser's download. */
export function downloadFile(name: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
