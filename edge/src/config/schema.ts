/**
 * The gateway config (gateway.yaml): where each device instance sits and how
 * the gateway syncs. Profiles say what a device is; this says where it is.
 * Published as JSON Schema (`lifeline schema gateway`) for editors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { literalUnion } from '@lifeline/shared';
import { DetectorsConfigSchema } from '@lifeline/shared/config';
import { AlarmsConfigSchema } from '../alarms/config.js';
import { ActionSchema, OutputSchema } from '../actions/config.js';
import { busLinks, type BusLink } from '../links/settings.js';
import { LightingConfigSchema } from '../lighting/config.js';

export const LocationSchema = Type.Object(
  {
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'WGS-84 longitude' }),
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'WGS-84 latitude' }),
    district: Type.Optional(Type.String()),
    gridUnit: Type.Optional(Type.String({ description: 'City grid-management unit' })),
  },
  { additionalProperties: false },
);

export const DeviceInstanceSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64, description: 'Device id, unique on the gateway' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'What people call it, e.g. 洸河路下穿通道积水监测; reported beside the id in the status' })),
    profile: Type.String({ minLength: 1, description: 'Shipped profile name, or path to a profile file (relative to the config file, inside the data directory)' }),
    unit: Type.Optional(Type.Integer({ minimum: 0, maximum: 247, description: 'Modbus devices: unit id (1..247 on a serial bus)' })),
    address: Type.Optional(
      Type.String({
        pattern: '^([0-9]{12}|[0-9]{14})$',
        description: 'Meters: address as printed on the meter, in quotes: 12 digits (DL/T 645) or 14 digits (CJ/T 188; the meter type comes from the profile)',
      }),
    ),
    station: Type.Optional(
      Type.String({
        pattern: '^[0-9A-F]{10}$',
        description: 'SL 651 stations (bus link sl651-listen): remote station address, 10 hex digits as set in the station, in quotes (hydrological stations: 00 + 8 digits)',
      }),
    ),
    pollMs: Type.Optional(Type.Integer({ minimum: 100, description: 'Overrides the profile default poll interval (SL 651 stations: the report interval they are set to)' })),
    gapMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 5000, description: 'Serial bus: extra quiet time this device needs after answering before the bus carries the next request' }),
    ),
    location: Type.Optional(LocationSchema),
    burst: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'false: do not read the burst the profile declares (default true)' })),
          periodMs: Type.Optional(Type.Integer({ minimum: 1000, description: "How often to read a burst, ms; overrides the profile's burst.periodMs" })),
          modes: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: "Natural frequencies reported (natural_frequency_1..modes); overrides the profile's burst.modes" })),
        },
        { additionalProperties: false, description: "Devices whose profile has a burst: block (bridge accelerometers): how this instance's bursts are read" },
      ),
    ),
    detectorDefaults: Type.Optional(
      Type.Boolean({ description: "false: do not run the detectors the device's profile defines (its points' detect defaults); default true" }),
    ),
  },
  { additionalProperties: false },
);
export type DeviceInstance = Static<typeof DeviceInstanceSchema>;

// The link kinds belong to the links (ground floor); re-exported for the package's API.
export { busLinks, type BusLink };

/** Whether a bus is a listening port SL 651 stations report to, rather than a bus the gateway polls. */
export function isSl651Bus(bus: Pick<Bus, 'link'>): boolean {
  return bus.link === 'sl651-listen';
}

/** Whether a bus carries meters (DL/T 645 or CJ/T 188) rather than Modbus devices. */
export function isMeterBus(bus: Pick<Bus, 'link'>): boolean {
  return bus.link === 'meter' || bus.link === 'meter-over-tcp';
}

export const BusSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    link: literalUnion(
      busLinks,
      'Link type: tcp (Modbus TCP), rtu (Modbus RTU on a serial port), rtu-over-tcp (RTU frames through a serial server or 4G DTU), meter (DL/T 645 or CJ/T 188 meters on a serial port), meter-over-tcp (meters through a serial server or 4G DTU), sl651-listen (a TCP port SL 651-2014 telemetry stations connect to and report on)',
    ),
    host: Type.Optional(Type.String({ minLength: 1, description: 'tcp, rtu-over-tcp, meter-over-tcp: host name or address; sl651-listen: address to listen on (default all)' })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'tcp, rtu-over-tcp, meter-over-tcp: TCP port; sl651-listen: the port stations connect to' })),
    path: Type.Optional(Type.String({ minLength: 1, description: 'rtu, meter: serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...' })),
    baud: Type.Optional(
      Type.Integer({ minimum: 300, maximum: 921600, description: 'serial buses: baud rate of the RS-485 line (default 9600; meter buses: the profile\'s, usually 2400)' }),
    ),
    parity: Type.Optional(
      literalUnion(['none', 'even', 'odd'] as const, 'serial buses: parity (default even, the Modbus serial line and meter default)'),
    ),
    dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)], { description: 'serial buses: data bits (default 8)' })),
    stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'serial buses: stop bits (default 1)' })),
    timeoutMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'Reply timeout per request' }),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: 'Retries of a failed request within one poll (default 1); none while a device is comm-lost' })),
    window: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'tcp: requests in flight at once (default 8; 1 for a gateway that cannot queue)' })),
    turnaroundMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000, description: 'rtu, rtu-over-tcp: quiet time after a broadcast write (default 100)' })),
    devices: Type.Array(DeviceInstanceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type Bus = Static<typeof BusSchema>;

/** What the schema cannot say about a bus: the fields its link needs and the ones it does not take. */
export function busLinkIssues(bus: Bus, path: string): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const need = (field: keyof Bus) => {
    if (bus[field] === undefined) issues.push({ path: `${path}.${field}`, message: `is required for link ${bus.link}` });
  };
  const refuse = (field: keyof Bus) => {
    if (bus[field] !== undefined) issues.push({ path: `${path}.${field}`, message: `does not apply to link ${bus.link}, got ${JSON.stringify(bus[field])}` });
  };
  if (bus.link === 'sl651-listen') {
    need('port');
    for (const f of ['path', 'baud', 'parity', 'dataBits', 'stopBits', 'window', 'turnaroundMs', 'retries'] as const) refuse(f);
    bus.devices.forEach((d, i) => {
      if (d.station === undefined) issues.push({ path: `${path}.devices[${i}].station`, message: 'is required for an SL 651 station: its 10-digit remote station address, in quotes' });
      if (d.gapMs !== undefined) issues.push({ path: `${path}.devices[${i}].gapMs`, message: `applies to serial buses only, got ${d.gapMs}` });
    });
    return issues;
  }
  bus.devices.forEach((d, i) => {
    if (d.station !== undefined) issues.push({ path: `${path}.devices[${i}].station`, message: `applies to SL 651 stations (link sl651-listen), got ${JSON.stringify(d.station)}` });
  });
  if (bus.link === 'rtu' || bus.link === 'meter') {
    need('path');
    refuse('host');
    refuse('port');
    refuse('window');
  } else {
    need('host');
    need('port');
    refuse('path');
    if (bus.link === 'tcp') for (const f of ['baud', 'parity', 'dataBits', 'stopBits', 'turnaroundMs'] as const) refuse(f);
    else refuse('window');
  }
  // A meter answers no broadcast read: the broadcast turnaround has nothing to time.
  if (isMeterBus(bus)) refuse('turnaroundMs');
  if (bus.link === 'tcp') bus.devices.forEach((d, i) => d.gapMs !== undefined && issues.push({ path: `${path}.devices[${i}].gapMs`, message: `applies to serial buses only, got ${d.gapMs}` }));
  return issues;
}

export const SyncSchema = Type.Object(
  {
    transport: literalUnion(['mqtt', 'aws-iot'] as const, 'mqtt (mqtt.js, any MQTT 3.1.1/5 broker) or aws-iot (aws-iot-device-sdk-v2 MQTT 5 client, for AWS IoT Core; needs tls)'),
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp)://', description: 'Broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://xxxx-ats.iot.eu-west-1.amazonaws.com:8883' }),
    username: Type.Optional(Type.String({ description: "MQTT login (from lifeline enroll); a config pushed from the cloud may leave it out and the gateway keeps its own" })),
    password: Type.Optional(Type.String({ description: 'MQTT password (from lifeline enroll; keep the file 0600); a config pushed from the cloud may leave it out or send [redacted] and the gateway keeps its own' })),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the broker certificate (relative to the config file, inside the data directory)' })),
          cert: Type.String({ minLength: 1, description: "PEM file of this gateway's client certificate (inside the data directory; a config pushed from the cloud keeps the gateway's own)" }),
          key: Type.String({ minLength: 1, description: "PEM file of this gateway's private key (inside the data directory; a config pushed from the cloud keeps the gateway's own)" }),
        },
        { additionalProperties: false, description: 'Mutual TLS: the broker knows the gateway by its certificate' },
      ),
    ),
    window: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Unacknowledged batches per lane (default 8)' })),
    maxBatchBytes: Type.Optional(Type.Integer({ minimum: 4096, maximum: 1048576, description: 'Largest message sent (default 120000; AWS IoT Core refuses over 128 KB; the cloud refuses over 1 MiB)' })),
    batchMaxReadings: Type.Integer({ minimum: 1, maximum: 100000, default: 5000 }),
    intervalMs: Type.Integer({ minimum: 10, default: 500, description: 'How often to look for new data to send' }),
    ackTimeoutMs: Type.Integer({ minimum: 100, default: 10000, description: 'Resend a batch not acknowledged by the cloud in this time' }),
    keepaliveS: Type.Optional(
      Type.Integer({
        minimum: 5,
        maximum: 1200,
        description:
          'MQTT keepalive, seconds (default 30): a ping after this long without a packet from the broker; a link that drops packets without a reset (a half-open connection) is noticed and reopened within 1.5x this',
      }),
    ),
  },
  { additionalProperties: false },
);

export const GatewayConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    gateway: Type.Object(
      {
        id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', maxLength: 64, description: 'Gateway id; also its MQTT topic prefix' }),
        name: Type.Optional(Type.String()),
        location: Type.Optional(LocationSchema),
        timeZone: Type.Optional(Type.String({ minLength: 1, description: "IANA time zone of the site, for lamp schedules' clock times (default Asia/Shanghai)" })),
      },
      { additionalProperties: false },
    ),
    buses: Type.Array(BusSchema, { minItems: 1 }),
    detectors: Type.Optional(DetectorsConfigSchema),
    alarms: Type.Optional(AlarmsConfigSchema),
    outputs: Type.Optional(Type.Array(OutputSchema, { description: 'What the gateway can switch: GPIO relays, sirens, beacons; Modbus coils and registers' })),
    actions: Type.Optional(Type.Array(ActionSchema, { description: 'Which alarms switch which outputs' })),
    lighting: Type.Optional(LightingConfigSchema),
    buffer: Type.Object(
      {
        path: Type.String({ minLength: 1, description: 'SQLite file (created 0600) inside the data directory (lifeline run --data-dir, default the config file\'s directory); relative paths are relative to the config file. A config pushed from the cloud keeps the gateway\'s own' }),
        diskBudgetBytes: Type.Optional(
          Type.Integer({ minimum: 1048576, description: 'Disk the buffer may use (database + WAL). Past it, unsent telemetry is thinned to per-minute min/max/mean, oldest first; alarms and events never' }),
        ),
      },
      { additionalProperties: false },
    ),
    sync: SyncSchema,
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof GatewayConfigSchema>;
