/**
 * Device profiles: one declarative file per device model (devices/profiles/*.yaml).
 * A profile says what a device type is; the gateway config says where each
 * instance sits (bus, unit id or meter address) and how often to poll it (EdgeX's split).
 *
 * A profile is one of four shapes, told apart by `protocol`:
 *
 *   modbus  points are registers or coils (table, address, type, byte order, scale)
 *   dlt645  points are DL/T 645-2007 data identifiers (electricity meters)
 *   cjt188  points are fields of the CJ/T 188-2004 901F reply (water, gas, heat meters)
 *   sl651   points are SL 651-2014 element identifiers (rain and water-level telemetry stations
 *           that report to the gateway over TCP)
 *
 * Identity (id, vendor, model, kind, description), poll interval, serial
 * defaults and each point's name, unit, range and simulated signal are common.
 * Published as JSON Schema in devices/schema/profile.schema.json.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { lifelineKinds, literalUnion } from '@lifeline/shared';
import { byteOrders, dataTypes } from '@lifeline/shared/protocols';

/** The four Modbus data tables. */
export const registerTables = ['coil', 'discrete', 'holding', 'input'] as const;
/** A Modbus data table: coil (FC1/5/15), discrete (FC2), holding (FC3/6/16), input (FC4). */
export type RegisterTable = (typeof registerTables)[number];

/** The field protocols a profile can speak. */
export const profileProtocols = ['modbus', 'dlt645', 'cjt188', 'sl651'] as const;
/** A profile's field protocol. */
export type ProfileProtocol = (typeof profileProtocols)[number];

/** How the simulator makes a realistic signal for a point. */
export const SimSignalSchema = Type.Object(
  {
    base: Type.Number({ description: 'Mean value, in the point unit' }),
    amplitude: Type.Optional(Type.Number({ description: 'Amplitude of the daily cycle (peak mid-afternoon), in the point unit' })),
    periodS: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Cycle period, s (default 86400: one day)' })),
    noise: Type.Optional(Type.Number({ minimum: 0, description: 'Standard deviation of white noise, in the point unit' })),
    drift: Type.Optional(Type.Number({ description: 'Linear drift, point unit per hour (counters: the mean consumption)' })),
    night: Type.Optional(Type.Number({ description: 'Value between 19:00 and 06:00 local time (lamp state, dimming, lamp current)' })),
  },
  { additionalProperties: false, description: 'Simulated signal: base + daily cycle + drift + noise, clamped to range' },
);
/** A point's simulated signal. */
export type SimSignal = Static<typeof SimSignalSchema>;

/** Fields every point has, whatever the protocol. */
const pointCommon = {
  name: Type.String({ pattern: '^[a-z][a-z0-9]*(_[a-z0-9]+)*$', description: 'snake_case, unique in the profile; ends with a quantity of the vocabulary (docs/profiles.md)' }),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'What operators call the point, in Chinese (e.g. 河道水位): the console shows it, the name stays the id' })),
  description: Type.Optional(Type.String()),
  unit: Type.String({ description: 'Unit symbol of the quantity (docs/profiles.md, vocabulary); "" for states' }),
  range: Type.Optional(
    Type.Tuple([Type.Number(), Type.Number()], { description: 'Physical range of the sensor [min, max], in unit; outside it a reading is Uncertain' }),
  ),
  sim: Type.Optional(SimSignalSchema),
  detect: Type.Optional(
    Type.Object(
      {
        threshold: Type.Optional(Type.Unknown()),
        rate: Type.Optional(Type.Unknown()),
        stuck: Type.Optional(Type.Unknown()),
        range: Type.Optional(Type.Unknown()),
        anomaly: Type.Optional(Type.Unknown()),
        artime: Type.Optional(Type.Unknown()),
        rainstorm: Type.Optional(Type.Unknown()),
        basis: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'Where the limits come from: standard number and clause (e.g. "GB/T 50493-2019 §5.1.4"), or "no standard: ..." saying why a rate/anomaly default stands in',
          }),
        ),
      },
      {
        additionalProperties: false,
        description:
          'Default detectors of this point on every instance of the model, with the keys of a gateway config detectors.points entry (docs/alarms.md); the profile lint and the gateway check them with the detector schema, and the config overrides them per detector',
      },
    ),
  ),
} satisfies TProperties;

/** Serial line defaults of a device model (the gateway config may override them). */
export const SerialDefaultsSchema = Type.Object(
  {
    baud: Type.Integer({ minimum: 300, maximum: 921600, description: 'Factory baud rate' }),
    parity: Type.Optional(literalUnion(['none', 'even', 'odd'] as const, 'Factory parity (default even for meters, none for Modbus)')),
    dataBits: Type.Optional(Type.Integer({ minimum: 7, maximum: 8, description: 'Data bits (default 8)' })),
    stopBits: Type.Optional(Type.Integer({ minimum: 1, maximum: 2, description: 'Stop bits (default 1)' })),
  },
  { additionalProperties: false, description: 'Factory serial settings' },
);
/** Factory serial settings. */
export type SerialDefaults = Static<typeof SerialDefaultsSchema>;

/** Fields every profile has, whatever the protocol. */
const profileCommon = {
  $schema: Type.Optional(Type.String()),
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'Profile id = file name without extension' }),
  vendor: Type.String({ minLength: 1 }),
  model: Type.String({ minLength: 1 }),
  kind: literalUnion(lifelineKinds, 'Lifeline kind'),
  description: Type.String({ minLength: 1 }),
  defaultPollMs: Type.Integer({ minimum: 100, description: 'Default poll interval, ms' }),
  serial: Type.Optional(SerialDefaultsSchema),
  turnaroundMs: Type.Optional(
    Type.Number({ minimum: 0, maximum: 5000, description: 'Typical time from the end of a request to the start of the reply, ms' }),
  ),
} satisfies TProperties;

// ─── Modbus ────────────────────────────────────────────────────────────────

export const PointSchema = Type.Object(
  {
    ...pointCommon,
    table: literalUnion(registerTables, 'Modbus table: coil (FC1/5/15), discrete (FC2), holding (FC3/6/16), input (FC4)'),
    address: Type.Integer({ minimum: 0, maximum: 65535, description: 'Zero-based register or coil address (the manual\'s 40001 is holding 0)' }),
    type: literalUnion(dataTypes, 'Raw data type'),
    order: Type.Optional(literalUnion(byteOrders, 'Byte order of 32/64-bit values: ABCD big-endian (default), CDAB word-swapped, BADC byte-swapped, DCBA little-endian')),
    scale: Type.Optional(Type.Number({ description: 'value = raw * scale + offset (default 1)' })),
    offset: Type.Optional(Type.Number({ description: 'Added after scaling (default 0)' })),
    access: Type.Optional(literalUnion(['r', 'rw'] as const, 'r (default) or rw')),
  },
  { additionalProperties: false },
);
/** One point of a Modbus device model. */
export type Point = Static<typeof PointSchema>;
/** Same as {@link Point}: one point of a Modbus device model. */
export type ModbusPoint = Point;

/** A simulated deck mode the simulator's burst carries (devices/src/simulator/bridge-vibration.ts). */
export const BurstSimModeSchema = Type.Object(
  {
    frequencyHz: Type.Number({ exclusiveMinimum: 0, description: 'Natural frequency at the reference temperature (15 °C), Hz' }),
    damping: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 0.2, description: 'Damping ratio (default 0.015)' })),
    rms: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'RMS acceleration this mode contributes, m/s2 (default 0.01)' })),
  },
  { additionalProperties: false },
);

/**
 * An accelerometer burst a Modbus device records into a block of int16
 * registers; the gateway reads it every `periodMs` and reduces it to
 * acceleration_rms, acceleration_peak and natural_frequency_1..modes
 * (edge/src/poller/burst.ts, docs/alarms.md "Bridge vibration").
 */
export const BurstSchema = Type.Object(
  {
    table: Type.Optional(literalUnion(['holding', 'input'] as const, 'Table of the sample block: holding (FC3, default) or input (FC4)')),
    address: Type.Integer({ minimum: 0, maximum: 65535, description: 'First sample register (zero-based)' }),
    samples: Type.Integer({ minimum: 512, maximum: 65536, description: 'Samples in a burst, one int16 register each (at least one 512-sample analysis segment)' }),
    scale: Type.Number({ exclusiveMinimum: 0, description: 'm/s2 per LSB (e.g. 0.0001: int16 carries ±3.2767 m/s2)' }),
    sampleRateHz: Type.Number({ exclusiveMinimum: 0, maximum: 10000, description: 'Sampling rate of the burst, Hz' }),
    periodMs: Type.Integer({ minimum: 1000, description: 'How often the gateway reads a burst, ms (e.g. 600000: every 10 minutes); the gateway config may override it per device' }),
    modes: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: 'Natural frequencies reported: natural_frequency_1..modes (default 3)' })),
    sim: Type.Optional(
      Type.Object(
        {
          modes: Type.Array(BurstSimModeSchema, { minItems: 1, description: 'Modes of the simulated deck' }),
          noise: Type.Optional(Type.Number({ minimum: 0, description: 'Sensor noise RMS, m/s2 (default 0.001)' })),
          temperature: Type.Optional(Type.String({ description: 'Point whose value is the deck temperature the modes follow (−0.15 %/°C from 15 °C); default none: 15 °C' })),
        },
        { additionalProperties: false, description: 'What the simulator records into the block each period' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Accelerometer burst: a block of int16 samples read every periodMs and reduced on the gateway (docs/profiles.md)' },
);
/** A device model's accelerometer burst. */
export type Burst = Static<typeof BurstSchema>;

/** Names of the readings a burst becomes, for `modes` natural frequencies. */
export function burstPointNames(modes: number): string[] {
  return ['acceleration_rms', 'acceleration_peak', ...Array.from({ length: modes }, (_, i) => `natural_frequency_${i + 1}`)];
}

export const ModbusProfileSchema = Type.Object(
  {
    ...profileCommon,
    protocol: Type.Literal('modbus', { description: 'Modbus RTU / TCP' }),
    maxRegistersPerRequest: Type.Optional(Type.Integer({ minimum: 4, maximum: 125, description: 'Largest FC3/FC4 read the device accepts (default 125)' })),
    maxBitsPerRequest: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, description: 'Largest FC1/FC2 read the device accepts (default 2000)' })),
    maxGap: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 124, description: 'Unused registers worth reading to save a request (default: the gateway\'s, 8)' }),
    ),
    gapReads: Type.Optional(
      literalUnion(
        ['zeros', 'exception'] as const,
        'How the device answers a read that covers unmapped registers: zeros (most devices, default) or exception 02 (then reads never bridge gaps)',
      ),
    ),
    points: Type.Array(PointSchema, { minItems: 1 }),
    burst: Type.Optional(BurstSchema),
  },
  { additionalProperties: false },
);
/** A Modbus device model. */
export type ModbusProfile = Static<typeof ModbusProfileSchema>;

// ─── DL/T 645-2007 ─────────────────────────────────────────────────────────

export const Dlt645PointSchema = Type.Object(
  {
    ...pointCommon,
    di: Type.String({ pattern: '^[0-9A-Fa-f]{8}$', description: 'Data identifier DI3..DI0 as 8 hex digits, e.g. 00010000 (forward active energy)' }),
    scale: Type.Optional(Type.Number({ description: 'value = meter value * scale (e.g. 1000 for kW → W; default 1)' })),
  },
  { additionalProperties: false },
);
/** One point of a DL/T 645 meter: a data identifier. */
export type Dlt645Point = Static<typeof Dlt645PointSchema>;

export const Dlt645ProfileSchema = Type.Object(
  {
    ...profileCommon,
    protocol: Type.Literal('dlt645', { description: 'DL/T 645-2007 electricity meter' }),
    points: Type.Array(Dlt645PointSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
/** A DL/T 645-2007 electricity meter model. */
export type Dlt645Profile = Static<typeof Dlt645ProfileSchema>;

// ─── CJ/T 188-2004 ─────────────────────────────────────────────────────────

/**
 * Fields of the CJ/T 188 901F reply a point can name: the quantity keys of
 * the codec (shared/src/protocols/cjt188) plus two bits of the status word.
 */
export const cjt188Fields = [
  'currentFlow',
  'settlementFlow',
  'settlementHeat',
  'currentHeat',
  'heatPower',
  'flowRate',
  'cumulativeFlow',
  'supplyTemperature',
  'returnTemperature',
  'workingHours',
  'valveClosed',
  'batteryLow',
] as const;
/** A field of the CJ/T 188 901F reply. */
export type Cjt188Field = (typeof cjt188Fields)[number];

export const Cjt188PointSchema = Type.Object(
  {
    ...pointCommon,
    field: literalUnion(
      cjt188Fields,
      'Field of the 901F reply: currentFlow, settlementFlow (water/gas), currentHeat, settlementHeat, heatPower, flowRate, cumulativeFlow, supplyTemperature, returnTemperature, workingHours (heat), valveClosed, batteryLow (status)',
    ),
    scale: Type.Optional(Type.Number({ description: 'value = meter value * scale (default 1)' })),
  },
  { additionalProperties: false },
);
/** One point of a CJ/T 188 meter: a field of its read reply. */
export type Cjt188Point = Static<typeof Cjt188PointSchema>;

export const Cjt188ProfileSchema = Type.Object(
  {
    ...profileCommon,
    protocol: Type.Literal('cjt188', { description: 'CJ/T 188-2004 water, gas or heat meter' }),
    meterType: Type.Integer({ minimum: 0, maximum: 255, description: 'Meter type byte T: 0x10 cold water, 0x11 hot water, 0x20 heat, 0x21 cooling, 0x30 gas' }),
    diOrder: Type.Optional(literalUnion(['901F', '1F90'] as const, 'Wire order of the read DI (default 901F)')),
    points: Type.Array(Cjt188PointSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
/** A CJ/T 188-2004 meter model. */
export type Cjt188Profile = Static<typeof Cjt188ProfileSchema>;

// ─── SL 651-2014 ───────────────────────────────────────────────────────────

export const Sl651PointSchema = Type.Object(
  {
    ...pointCommon,
    element: Type.String({
      pattern: '^([0-9A-F]{2}|FF[0-9A-F]{2})$',
      description: 'Element identifier of SL 651-2014 table C.1 as 2 upper-case hex digits (20 current rainfall, 26 cumulative rainfall, 39 river level, 38 supply voltage…) or FFxx for a user-defined one',
    }),
    scale: Type.Optional(Type.Number({ description: 'value = element value * scale (default 1)' })),
  },
  { additionalProperties: false },
);
/** One point of an SL 651 station: an element identifier of its reports. */
export type Sl651Point = Static<typeof Sl651PointSchema>;

export const Sl651ProfileSchema = Type.Object(
  {
    ...profileCommon,
    protocol: Type.Literal('sl651', { description: 'SL 651-2014 hydrological telemetry station (reports to the gateway over TCP)' }),
    stationType: Type.Optional(
      Type.String({ pattern: '^[A-Z]$', description: 'Station type letter the station reports: P rainfall, H river, K reservoir, Z gate, G groundwater, M soil moisture…' }),
    ),
    points: Type.Array(Sl651PointSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
/** An SL 651-2014 telemetry station model; `defaultPollMs` is the report interval it is set to. */
export type Sl651Profile = Static<typeof Sl651ProfileSchema>;

// ─── Any profile ───────────────────────────────────────────────────────────

/** Every profile shape; the `protocol` field tells which. */
export const ProfileSchema = Type.Union([ModbusProfileSchema, Dlt645ProfileSchema, Cjt188ProfileSchema, Sl651ProfileSchema], {
  title: 'Lifeline device profile',
  description: 'One device model: identity, protocol and points (docs/profiles.md)',
});
/** A device model of any protocol. */
export type Profile = Static<typeof ProfileSchema>;
/** A point of any protocol. */
export type AnyPoint = Profile['points'][number];
/** A meter (non-Modbus) profile. */
export type MeterProfile = Dlt645Profile | Cjt188Profile;

/** The schema of one protocol's profiles (used to report errors against the right shape). */
export const profileSchemas = {
  modbus: ModbusProfileSchema,
  dlt645: Dlt645ProfileSchema,
  cjt188: Cjt188ProfileSchema,
  sl651: Sl651ProfileSchema,
} as const;

/** Narrows a profile to Modbus. */
export function isModbusProfile(p: Readonly<Profile>): p is Readonly<ModbusProfile> {
  return p.protocol === 'modbus';
}
