// The page is "interactive" once its first frame with content has been painted:
// the frame after the one in which the DOM was complete. The benchmark reads
// this mark (the same way it reads the calendar's own `vetdesk:calendar`).
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    performance.mark('vetdesk:ready');
    document.body.dataset.ready = 'true';
  }),
);
