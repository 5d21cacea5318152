// Wire types of vetdesk's /api/v1, which the desktop app's commands share.
// Every type here is a name for a schema of the API's own OpenAPI document:
// `api.ts` is generated from `ui/openapi.json` by openapi-typescript
// (`bash scripts/gen-types`), and the test command fails when either is stale,
// so nothing here is written by hand. Ids are UUID strings; instants are
// RFC 3339 UTC; `local_*` fields are the clinic's wall time without an offset.

import type { components } from './api';

type Schemas = components['schemas'];

export type Uuid = string;
export type Instant = string;
export type LocalDateTime = Schemas['LocalDateTime'];
export type LocalDate = string;

export type Role = Schemas['RoleView'];
export type User = Schemas['UserView'];
export type Session = Schemas['SessionView'];
export type Status = Schemas['StatusView'];
export type CalendarView = Schemas['CalendarKindView'];
export type Meta = Schemas['MetaView'];
export type ClinicRef = Schemas['ClinicRefView'];
export type VetRef = Schemas['VetRefView'];
export type LocalSlot = Schemas['LocalSlotView'];
export type CalendarAppointment = Schemas['CalendarAppointmentView'];
export type FreeBlock = Schemas['FreeBlockView'];
export type CalendarDay = Schemas['CalendarDayView'];
export type Calendar = Schemas['CalendarView'];
export type Availability = Schemas['AvailabilityView'];
export type AvailabilityRuns = Schemas['AvailabilityRunsView'];
export type SlotRun = Schemas['SlotRunView'];
export type Interval = Schemas['IntervalView'];
export type Conflict = Schemas['ConflictView'];
export type ConflictReport = Schemas['ConflictReportView'];
export type HistoryEntry = Schemas['HistoryEntryView'];
export type AppointmentDetails = Schemas['AppointmentDetailsView'];
export type Clinic = Schemas['ClinicView'];
export type Vet = Schemas['VetView'];
export type Client = Schemas['ClientView'];
export type Pet = Schemas['PetView'];
export type AppointmentType = Schemas['AppointmentTypeView'];
export type WorkingHours = Schemas['WorkingHoursView'];
export type TimeOff = Schemas['TimeOffView'];
export type Deleted = Schemas['Deleted'];
/** A committed change, as `GET /events` announces it. */
export type Change = Schemas['ChangeView'];

// ---------- notifications and users (management screens) ----------

export type MessageKind = Schemas['MessageKindView'];
export type MessageChannel = Schemas['MessageChannelView'];
export type MessageStatus = Schemas['MessageStatusView'];
export type Health = Schemas['Health'];
export type OutboxMessage = Schemas['OutboxMessageView'];
export type OutboxPage = Schemas['OutboxPageView'];
export type RenderedMessage = Schemas['RenderedView'];
export type PreparedMessage = Schemas['PreparedView'];
export type MessagePreview = Schemas['MessagePreviewView'];
export type MessageTemplate = Schemas['MessageTemplateView'];
export type ManagedUser = Schemas['UserView'];
