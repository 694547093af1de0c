/**
 * DL/T 645-2007 data identifiers (DI3 DI2 DI1 DI0, written as 8 hex digits)
 * this codec can decode, with the value format from the standard's appendix A.
 * Values are packed BCD, low byte first; "signed" formats carry the sign in
 * bit 7 of the most significant byte.
 */

/** How one data identifier's value is encoded. */
export interface Dlt645DataId {
  /** The identifier, e.g. 0x00010000. */
  id: number;
  /** What it measures, e.g. `forward active energy total`. */
  name: string;
  /** The standard's format string, e.g. `XXXXXX.XX`. */
  format: string;
  /** Encoded size in bytes. */
  bytes: number;
  /** Implied decimal places. */
  decimals: number;
  /** Bit 7 of the top byte is a sign bit. */
  signed: boolean;
  /** Unit symbol, '' for dimensionless. */
  unit: string;
}

function def(id: number, name: string, format: string, signed: boolean, unit: string): Dlt645DataId {
  const digits = format.replace('.', '').length;
  const dot = format.indexOf('.');
  return { id, name, format, bytes: digits / 2, decimals: dot < 0 ? 0 : format.length - dot - 1, signed, unit };
}

const PHASES = ['A', 'B', 'C'] as const;

const TABLE: Dlt645DataId[] = [
  // Combined active energy can be negative (forward minus reverse), hence signed.
  def(0x00000000, 'combined active energy total', 'XXXXXX.XX', true, 'kWh'),
  def(0x00010000, 'forward active energy total', 'XXXXXX.XX', false, 'kWh'),
  def(0x00020000, 'reverse active energy total', 'XXXXXX.XX', false, 'kWh'),
  ...PHASES.map((p, i) => def(0x02010100 + (i << 8), `phase ${p} voltage`, 'XXX.X', false, 'V')),
  ...PHASES.map((p, i) => def(0x02020100 + (i << 8), `phase ${p} current`, 'XXX.XXX', true, 'A')),
  def(0x02030000, 'total active power', 'XX.XXXX', true, 'kW'),
  ...PHASES.map((p, i) => def(0x02030100 + (i << 8), `phase ${p} active power`, 'XX.XXXX', true, 'kW')),
  def(0x02040000, 'total reactive power', 'XX.XXXX', true, 'kvar'),
  ...PHASES.map((p, i) => def(0x02040100 + (i << 8), `phase ${p} reactive power`, 'XX.XXXX', true, 'kvar')),
  def(0x02050000, 'total apparent power', 'XX.XXXX', true, 'kVA'),
  ...PHASES.map((p, i) => def(0x02050100 + (i << 8), `phase ${p} apparent power`, 'XX.XXXX', true, 'kVA')),
  def(0x02060000, 'total power factor', 'X.XXX', true, ''),
  ...PHASES.map((p, i) => def(0x02060100 + (i << 8), `phase ${p} power factor`, 'X.XXX', true, '')),
  def(0x02800001, 'neutral current', 'XXX.XXX', true, 'A'),
  def(0x02800002, 'grid frequency', 'XX.XX', false, 'Hz'),
];

/** Known data identifiers by id. */
export const DLT645_DATA_IDS: ReadonlyMap<number, Dlt645DataId> = new Map(TABLE.map((d) => [d.id, d]));

/**
 * The items of a block read of instantaneous variables (DI1 = 0xFF, e.g.
 * 0x0201FF00 = voltages A, B, C; 0x0203FF00 = active power total, A, B, C),
 * in the order the meter sends them; empty when `id` is not a known block.
 */
export function dlt645BlockItems(id: number): Dlt645DataId[] {
  // Only the instantaneous variables (DI3 = 02) have per-phase blocks this table can spell out.
  if (id >>> 24 !== 0x02 || ((id >>> 8) & 0xff) !== 0xff) return [];
  const base = id & 0xffff00ff;
  const items: Dlt645DataId[] = [];
  for (let k = 0; k <= 3; k++) {
    const d = DLT645_DATA_IDS.get((base | (k << 8)) >>> 0);
    if (d) items.push(d);
  }
  return items;
}

/** `00010000` for 0x00010000. */
export function formatDataId(id: number): string {
  return (id >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
