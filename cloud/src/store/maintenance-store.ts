/**
 * The maintenance concern of the cloud store: windows during which a gateway,
 * a device or a point is out of service (ISA-18.2), each with its reason and
 * who set and ended it. The store only keeps them; maintenance.ts applies them
 * to alarms as they are shown, so an alarm's stored state stays what its
 * gateway reported and it returns to service when the window ends.
 */

/** What a window takes out of service: a whole gateway, one of its devices, or one point of that device. */
export type MaintenanceScope = 'gateway' | 'device' | 'point';

/** A maintenance window. */
export interface MaintenanceWindow {
  id: number;
  /** 'gateway' when device is null, 'device' when point is null, else 'point'. */
  scope: MaintenanceScope;
  gateway: string;
  /** Null: the whole gateway. */
  device: string | null;
  /** Null: the whole device (or gateway). */
  point: string | null;
  /** Epoch ms it starts (inclusive). */
  from: number;
  /** Epoch ms it ends by itself (exclusive). */
  until: number;
  reason: string;
  createdBy: string;
  createdAt: number;
  /** Epoch ms it was ended early; null while it runs (or ran) its course. */
  endedAt: number | null;
  endedBy: string | null;
}

/** Where a window stands at a given instant. */
export type MaintenanceStatus = 'upcoming' | 'active' | 'over';

/** Window list filter. */
export interface MaintenanceFilter {
  /** The instant `status` is judged at (epoch ms). */
  at: number;
  /** Any of these; all when absent. */
  status?: MaintenanceStatus[];
  gateway?: string;
  limit: number;
}

/** Maintenance windows. */
export interface MaintenanceStore {
  addWindow(w: Omit<MaintenanceWindow, 'id' | 'scope' | 'endedAt' | 'endedBy'>): Promise<MaintenanceWindow>;
  getWindow(id: number): Promise<MaintenanceWindow | undefined>;
  /** Newest start first. */
  listWindows(f: MaintenanceFilter): Promise<MaintenanceWindow[]>;
  /** End a window that is not over yet; the ended window, or undefined when it was already over (or unknown). */
  endWindow(id: number, at: number, by: string): Promise<MaintenanceWindow | undefined>;
}

/** Where `w` stands at `at`. */
export function maintenanceStatus(w: Pick<MaintenanceWindow, 'from' | 'until' | 'endedAt'>, at: number): MaintenanceStatus {
  if (w.endedAt !== null || w.until <= at) return 'over';
  return w.from > at ? 'upcoming' : 'active';
}
