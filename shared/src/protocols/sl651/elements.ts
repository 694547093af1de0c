/**
 * SL 651-2014 element identifiers (要素标识符, appendix C, table C.1): the
 * identifier byte of the HEX/BCD form, its mnemonic (the identifier of the
 * ASCII form), what it measures, its unit and its N(digits, decimals) format.
 *
 * In the HEX/BCD form every element is `identifier, data-definition byte,
 * data`: the definition's high 5 bits give the data length in bytes and its low
 * 3 bits the decimal places, so a frame can be read without this table; the
 * table only names what was read and sets the format when we write.
 *
 * Only the entries below are named; another identifier still decodes (by its
 * definition byte) and is shown as `element 0xNN`.
 */

/** One element identifier of table C.1. */
export interface Sl651ElementDef {
  /** Identifier byte of the HEX/BCD form. */
  id: number;
  /** Mnemonic, the identifier of the ASCII form (PJ, PT, Z, VT…). */
  code: string;
  /** What it measures, in English. */
  name: string;
  /** The standard's name. */
  zh: string;
  /** Unit symbol as the profiles spell it ('' for counts and codes). */
  unit: string;
  /** N(digits, decimals) of the standard: digits and decimal places. */
  digits: number;
  decimals: number;
}

const T: Array<[number, string, string, string, string, number, number]> = [
  [0x01, 'AC', 'cross-section area', '断面面积', 'm2', 8, 2],
  [0x02, 'AI', 'air temperature', '瞬时气温', '°C', 3, 1],
  [0x03, 'C', 'water temperature', '瞬时水温', '°C', 3, 1],
  [0x04, 'DRxnn', 'time step code (DDHHmm)', '时间步长码', '', 6, 0],
  [0x05, 'DT', 'period length (HH.mm)', '时段长', '', 5, 2],
  [0x06, 'ED', 'daily evaporation', '日蒸发量', 'mm', 6, 1],
  [0x07, 'EJ', 'current evaporation', '当前蒸发', 'mm', 6, 1],
  [0x08, 'FL', 'air pressure', '气压', 'hPa', 5, 0],
  [0x09, 'GH', 'gate opening height', '闸坝、水库闸门开启高度', 'm', 5, 2],
  [0x0a, 'GN', 'gate (group) number', '输水设备、闸门(组)编号', '', 3, 0],
  [0x0b, 'GS', 'water conveyance equipment type', '输水设备类别', '', 1, 0],
  [0x0c, 'GT', 'gate openings', '水库、闸坝闸门开启孔数', '', 3, 0],
  [0x0d, 'GTP', 'ground temperature', '地温', '°C', 3, 1],
  [0x0e, 'H', 'groundwater depth', '地下水瞬时埋深', 'm', 6, 2],
  [0x0f, 'HW', 'wave height', '波浪高度', 'm', 5, 2],
  [0x10, 'M10', 'soil moisture at 10 cm', '10厘米处土壤含水量', '%', 4, 1],
  [0x11, 'M20', 'soil moisture at 20 cm', '20厘米处土壤含水量', '%', 4, 1],
  [0x12, 'M30', 'soil moisture at 30 cm', '30厘米处土壤含水量', '%', 4, 1],
  [0x13, 'M40', 'soil moisture at 40 cm', '40厘米处土壤含水量', '%', 4, 1],
  [0x14, 'M50', 'soil moisture at 50 cm', '50厘米处土壤含水量', '%', 4, 1],
  [0x15, 'M60', 'soil moisture at 60 cm', '60厘米处土壤含水量', '%', 4, 1],
  [0x16, 'M80', 'soil moisture at 80 cm', '80厘米处土壤含水量', '%', 4, 1],
  [0x17, 'M100', 'soil moisture at 100 cm', '100厘米处土壤含水量', '%', 4, 1],
  [0x18, 'MST', 'humidity', '湿度', '%', 4, 1],
  [0x19, 'NS', 'units running', '开机台数', '', 2, 0],
  [0x1a, 'P1', '1 h rainfall', '1小时时段降水量', 'mm', 5, 1],
  [0x1b, 'P2', '2 h rainfall', '2小时时段降水量', 'mm', 5, 1],
  [0x1c, 'P3', '3 h rainfall', '3小时时段降水量', 'mm', 5, 1],
  [0x1d, 'P6', '6 h rainfall', '6小时时段降水量', 'mm', 5, 1],
  [0x1e, 'P12', '12 h rainfall', '12小时时段降水量', 'mm', 5, 1],
  [0x1f, 'PD', 'daily rainfall', '日降水量', 'mm', 5, 1],
  [0x20, 'PJ', 'current rainfall', '当前降水量', 'mm', 5, 1],
  [0x21, 'PN01', '1 min rainfall', '1分钟时段降水量', 'mm', 5, 1],
  [0x22, 'PN05', '5 min rainfall', '5分钟时段降水量', 'mm', 5, 1],
  [0x23, 'PN10', '10 min rainfall', '10分钟时段降水量', 'mm', 5, 1],
  [0x24, 'PN30', '30 min rainfall', '30分钟时段降水量', 'mm', 5, 1],
  [0x25, 'PR', 'rainstorm rainfall', '暴雨量', 'mm', 5, 1],
  [0x26, 'PT', 'cumulative rainfall', '降水量累计值', 'mm', 6, 1],
  [0x27, 'Q', 'instantaneous flow', '瞬时流量、抽水流量', 'm3/s', 9, 3],
  [0x30, 'QA', 'total outflow', '总出库流量、过闸总流量', 'm3/s', 9, 3],
  [0x31, 'QZ', 'gate (group) flow', '输水设备流量、过闸(组)流量', 'm3/s', 9, 3],
  [0x33, 'UC', 'wind direction', '风向', '', 2, 0],
  [0x34, 'UE', 'wind force (grade)', '风力(级)', '', 2, 0],
  [0x35, 'US', 'wind speed', '风速', 'm/s', 4, 1],
  [0x36, 'VA', 'mean cross-section velocity', '断面平均流速', 'm/s', 5, 3],
  [0x37, 'VJ', 'current velocity', '当前瞬时流速', 'm/s', 5, 3],
  [0x38, 'VT', 'supply voltage', '电源电压', 'V', 4, 2],
  [0x39, 'Z', 'river water level', '瞬时河道水位、潮位', 'm', 7, 3],
  [0x3a, 'ZB', 'downstream water level', '库(闸、站)下水位', 'm', 7, 3],
  [0x3b, 'ZU', 'upstream water level', '库(闸、站)上水位', 'm', 7, 3],
  [0x44, 'SQ', 'sediment concentration', '含沙量', 'kg/m3', 9, 3],
  [0x45, 'ZT', 'station status and alarms (32 bits)', '遥测站状态及报警信息', '', 8, 0],
  [0x46, 'PH', 'pH', 'pH值', '', 4, 2],
  [0x48, 'COND', 'conductivity', '电导率', 'uS/cm', 5, 0],
  [0x49, 'TURB', 'turbidity', '浊度', '', 3, 0],
  [0x70, 'VTA', 'AC phase A voltage', '交流A相电压', 'V', 4, 1],
  [0x71, 'VTB', 'AC phase B voltage', '交流B相电压', 'V', 4, 1],
  [0x72, 'VTC', 'AC phase C voltage', '交流C相电压', 'V', 4, 1],
  [0x73, 'VIA', 'AC phase A current', '交流A相电流', 'A', 4, 1],
  [0x74, 'VIB', 'AC phase B current', '交流B相电流', 'A', 4, 1],
  [0x75, 'VIC', 'AC phase C current', '交流C相电流', 'A', 4, 1],
];
// Outlet flows Q1..Q8 (28H–2FH) and outlet levels Z1..Z8 (3CH–43H).
for (let i = 1; i <= 8; i++) {
  T.push([0x27 + i, `Q${i}`, `outlet ${i} flow`, `取(排)水口流量${i}`, 'm3/s', 9, 3]);
  T.push([0x3b + i, `Z${i}`, `outlet ${i} water level`, `取(排)水口水位${i}`, 'm', 7, 3]);
}

/** Named elements by identifier byte. */
export const SL651_ELEMENTS: ReadonlyMap<number, Sl651ElementDef> = new Map(
  T.map(([id, code, name, zh, unit, digits, decimals]) => [id, { id, code, name, zh, unit, digits, decimals }]),
);

/** Named elements by ASCII mnemonic. */
export const SL651_ELEMENTS_BY_CODE: ReadonlyMap<string, Sl651ElementDef> = new Map([...SL651_ELEMENTS.values()].map((e) => [e.code, e]));

/**
 * Identifiers with a structure of their own (table C.1 items 1–9): two-byte
 * identifiers F0F0…F3F3, and the hourly arrays whose definition byte (60H, C0H)
 * gives their length like any other element.
 */
export const Sl651Special = {
  /** F0F0 observation time TT, YYMMDDHHmm BCD. */
  ObservationTime: 0xf0,
  /** F1F1 station address ST (5 bytes) and station type (1 byte). */
  Station: 0xf1,
  /** F2F2 manual entry (人工置数), text to the end of the body. */
  Manual: 0xf2,
  /** F3F3 picture, JPEG to the end of the body. */
  Picture: 0xf3,
  /** F4 (definition 60H): 12 five-minute rainfalls of the last hour, 1 byte HEX each, 0.1 mm, FF none. */
  FiveMinuteRain: 0xf4,
  /** F5–FC (definition C0H): 12 five-minute relative water levels 1–8, 2 bytes HEX each, 0.01 m, FFFF none. */
  FiveMinuteLevelFirst: 0xf5,
  FiveMinuteLevelLast: 0xfc,
  /** FF: a user-defined two-byte identifier (FFxx) follows. */
  Extension: 0xff,
} as const;

/** Station type codes (遥测站分类码): an ASCII letter, the same byte in both forms. */
export const SL651_STATION_TYPES: Readonly<Record<number, string>> = {
  0x50: 'rainfall (降水)',
  0x48: 'river (河道)',
  0x4b: 'reservoir / lake (水库/湖泊)',
  0x5a: 'gate / dam (闸坝)',
  0x44: 'pumping station (泵站)',
  0x54: 'tide (潮汐)',
  0x4d: 'soil moisture (墒情)',
  0x47: 'groundwater (地下水)',
  0x51: 'water quality (水质)',
  0x49: 'water intake (取水口)',
  0x4f: 'outfall (排水口)',
};

/** Function codes (功能码, table 5) named in `lifeline decode`. */
export const SL651_FUNCTIONS: Readonly<Record<number, string>> = {
  0x2f: 'link keep-alive (链路维持报)',
  0x30: 'test report (测试报)',
  0x31: 'uniform-interval report (均匀时段水文信息报)',
  0x32: 'timed report (遥测站定时报)',
  0x33: 'added report (遥测站加报报)',
  0x34: 'hourly report (遥测站小时报)',
  0x35: 'manual entry report (遥测站人工置数报)',
  0x36: 'picture report / query (图片报)',
  0x37: 'query real-time data (查询实时数据)',
  0x38: 'query period data (查询时段数据)',
  0x39: 'query manual entry (查询人工置数)',
  0x3a: 'query elements (查询指定要素)',
  0x40: 'modify basic configuration (修改基本配置)',
  0x41: 'read basic configuration (读取基本配置)',
  0x42: 'modify run parameters (修改运行参数)',
  0x43: 'read run parameters (读取运行参数)',
  0x44: 'query pump motor data (查询水泵电机实时工作数据)',
  0x45: 'query software version (查询遥测终端软件版本)',
  0x46: 'query status and alarms (查询遥测站状态和报警信息)',
  0x47: 'initialise storage (初始化固态存储数据)',
  0x48: 'restore factory settings (恢复出厂设置)',
  0x49: 'change password (修改密码)',
  0x4a: 'set clock (设置遥测站时钟)',
  0x51: 'query clock (查询遥测站时钟)',
};

/** Control characters (table 3). */
export const Sl651Ctl = {
  /** Start of an ASCII frame. */
  SOH_ASCII: 0x01,
  /** Start of a HEX/BCD frame (sent twice). */
  SOH_HEX: 0x7e,
  /** Start of text, single packet. */
  STX: 0x02,
  /** Start of text, one packet of several. */
  SYN: 0x16,
  /** End: no frame follows. */
  ETX: 0x03,
  /** End: more packets follow. */
  ETB: 0x17,
  /** End: enquiry (a query from the centre). */
  ENQ: 0x05,
  /** End: transmission over, hang up. */
  EOT: 0x04,
  /** End: positive acknowledgement, go on. */
  ACK: 0x06,
  /** End: negative acknowledgement, resend. */
  NAK: 0x15,
  /** End: transmission over, stay on line. */
  ESC: 0x1b,
} as const;

/** Names of the end characters. */
export const SL651_END_NAMES: Readonly<Record<number, string>> = {
  0x03: 'ETX (end, no more frames)',
  0x17: 'ETB (end of block, more packets follow)',
  0x05: 'ENQ (enquiry)',
  0x04: 'EOT (transmission over, hang up)',
  0x06: 'ACK (acknowledged, go on)',
  0x15: 'NAK (not acknowledged, resend)',
  0x1b: 'ESC (transmission over, stay on line)',
};
