/**
 * The page's own lifecycle as a provider and its tab channel see it: `pagehide` (a tab closing, or going into the
 * back/forward cache, without a `disconnect()`) and `pageshow` of a restored page. Nothing in
 * Node or a worker, where there is no window.
 */
export interface PageLifecycleHandlers {
  /** The page is going away: hide our cursor now, while the channel still carries it. */
  hidden: () => void
  /** The page came back from the back/forward cache. */
  restored: () => void
}

/** Listens until the returned function is called. */
export const watchPage = (handlers: PageLifecycleHandlers): () => void => {
  if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return () => {}
  const onHide = (): void => handlers.hidden()
  const onShow = (event: Event): void => {
    if ((event as PageTransitionEvent).persisted) handlers.restored()
  }
  // The window listened to, even if the global is gone by the time we stop (a test's stub).
  const page = window
  page.addEventListener('pagehide', onHide)
  page.addEventListener('pageshow', onShow)
  return () => {
    page.removeEventListener('pagehide', onHide)
    page.removeEventListener('pageshow', onShow)
  }
}
