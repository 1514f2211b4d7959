/**
 * Embed pages tell their parent how tall they are, so a host page can size the
 * iframe to its content. Message (documented on the instructors' page):
 *   { type: "kv-cache-lab:resize", height: <CSS pixels> }
 * posted to the parent with targetOrigin "*" (it carries no private data).
 */
export const RESIZE_MESSAGE = 'kv-cache-lab:resize';

export function startResizeReporter(): void {
  if (typeof window === 'undefined' || window.parent === window) return;
  let last = -1;
  const post = () => {
    const height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: RESIZE_MESSAGE, height }, '*');
  };
  new ResizeObserver(post).observe(document.body);
  window.addEventListener('load', post);
  post();
}
