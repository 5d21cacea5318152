// The calendar library marks its grid up as an ARIA table (table > rowgroup > row
// > cell) but puts the appointments, which are buttons, straight into the
// rowgroup: a table whose rows hold buttons is no table to a screen reader (axe:
// critical `aria-required-children`). The grid is a picture of time; what a
// screen reader needs are the appointments, each a labelled button. So the grid's
// table roles are taken off as the library draws them, and the whole calendar
// is one labelled region.

const TABLE_ROLES = new Set(['table', 'rowgroup', 'row', 'columnheader', 'rowheader', 'cell', 'gridcell']);
const TABLE_ATTRS = ['aria-colindex', 'aria-colspan', 'aria-rowindex', 'aria-rowspan'];

function plain(el: Element): void {
  const role = el.getAttribute('role');
  if (role && TABLE_ROLES.has(role)) {
    if (el.classList.contains('ec')) {
      el.setAttribute('role', 'region');
      el.setAttribute('aria-label', 'Appointments');
    } else {
      el.removeAttribute('role');
    }
  }
  for (const attr of TABLE_ATTRS) if (el.hasAttribute(attr)) el.removeAttribute(attr);
}

function plainAll(root: Element): void {
  plain(root);
  for (const el of root.querySelectorAll('[role], [aria-colindex], [aria-colspan]')) plain(el);
}

/** Keep the library's table roles off `host` from now on; returns the watcher to disconnect. */
export function withoutTableRoles(host: HTMLElement): MutationObserver {
  plainAll(host);
  const watch = new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.type === 'attributes') plain(c.target as Element);
      else for (const n of c.addedNodes) if (n instanceof Element) plainAll(n);
    }
  });
  watch.observe(host, { subtree: true, childList: true, attributes: true, attributeFilter: ['role', ...TABLE_ATTRS] });
  return watch;
}
