/**
 * An alarm's cause in Chinese, for the people who read it: operators in the
 * console and duty officers on WeCom, DingTalk and SMS.
 *
 * Causes are written in English by whoever raises the alarm (the edge's
 * detectors and alarm manager, the cloud's watch and ingest) and travel and
 * are stored as that text: the gateway that wrote a cause may be older or
 * newer than the cloud reading it. So the Chinese is made where it is shown,
 * by recognising each cause's sentence shape; a cause of a shape not known
 * here (a newer gateway's, or one cut at its length limit) is shown as it was
 * written. cause-zh.test.ts holds a sample of every shape, and the edge's
 * detector tests check that what the detectors write is recognised.
 */

type Rule = [RegExp, (m: RegExpMatchArray) => string];

const LEVEL = String.raw`(normal|blue \(IV\)|yellow \(III\)|orange \(II\)|red \(I\))`;
const levelZh: Record<string, string> = {
  normal: '正常',
  'blue (IV)': '蓝色（IV级）',
  'yellow (III)': '黄色（III级）',
  'orange (II)': '橙色（II级）',
  'red (I)': '红色（I级）',
};
const lv = (s: string | undefined): string => levelZh[s ?? ''] ?? s ?? '';

const unitZh: Record<string, string> = { ms: '毫秒', d: '天', h: '小时', min: '分钟', m: '分', s: '秒' };
/** `1h30m`, `12.5s`, `5 min`, `500ms` → 1小时30分, 12.5秒, 5分钟, 500毫秒. */
const dur = (s: string | undefined): string => (s ?? '').replace(/(\d+(?:\.\d+)?) ?(ms|min|d|h|m|s)(?![A-Za-z])/g, (_x, n: string, u: string) => `${n}${unitZh[u]}`);

/** `; the change began about 23 s earlier` (multivariate raises) → `；变化约始于 23 秒前`. */
const BEGAN = String.raw`(?:; the change began about (\d+) s earlier)?`;
const began = (n: string | undefined): string => (n ? `；变化约始于 ${n} 秒前` : '');

const anomalyWhy: Rule[] = [
  [/^beyond its range so far$/, () => '超出迄今的数值范围'],
  [/^its recent spread of values unlike any seen before$/, () => '近期数值的分布前所未见'],
  [/^unlike the same point of its (\d+)-reading cycle$/, (m) => `与其 ${m[1]} 个读数周期中同一位置的数值不符`],
  [/^its mean over the last (\d+) readings higher than usual$/, (m) => `最近 ${m[1]} 个读数的均值高于往常`],
  [/^unlike anything in its recent history$/, () => '与近期历史中的任何形态都不同'],
];

const rules: Rule[] = [
  // The alarm manager's wrappers around a detector's cause.
  [/^chattering: raised (\d+) times within (\S+), suppressed until quiet for (\S+); ([\s\S]*)$/, (m) => `抖动：${dur(m[2])}内报警 ${m[1]} 次，抑制至连续 ${dur(m[3])}未再报警；${causeInChinese(m[4]!)}`],
  [new RegExp(String.raw`^alarm flood \(([^)]*)\), suppressed below ${LEVEL}; ([\s\S]*)$`), (m) => `报警风暴（${m[1]}）期间，低于${lv(m[2])}的报警被抑制；${causeInChinese(m[3]!)}`],
  [new RegExp(String.raw`^alarm flood: (\d+) alarms raised within (\S+); new alarms below ${LEVEL} are suppressed until fewer than (\d+) remain in the window$`), (m) => `报警风暴：${dur(m[2])}内发生 ${m[1]} 条报警；窗口内少于 ${m[4]} 条之前，低于${lv(m[3])}的新报警被抑制`],
  [/^alarm flood over: (\d+) alarms raised during it$/, (m) => `报警风暴结束：期间共发生 ${m[1]} 条报警`],
  [/^alarm flood over$/, () => '报警风暴结束'],
  [/^acknowledged by (.+)$/, (m) => `已由 ${m[1]} 确认`],
  [/^shelved by (.+) for (\S+), until (\S+)$/, (m) => `已由 ${m[1]} 搁置 ${dur(m[2])}，至 ${m[3]}`],
  [/^unshelved by (.+)$/, (m) => `已由 ${m[1]} 取消搁置`],
  [/^shelving by (.+) expired$/, (m) => `${m[1] === 'an operator' ? '操作员' : m[1]} 的搁置已到期`],
  [/^no longer chattering: not raised for (\S+)$/, (m) => `抖动结束：已 ${dur(m[1])}未再报警`],
  // Thresholds.
  [new RegExp(String.raw`^(\S+) (.+?) (≥|≤) ${LEVEL} (high|low) limit (.+)$`), (m) => `${m[1]} ${m[2]} ${m[3]} ${lv(m[4])}${m[5] === 'high' ? '上限' : '下限'} ${m[6]}`],
  [new RegExp(String.raw`^(\S+) (.+?) back within limits \(${LEVEL} (high|low) limit (.+) cleared\)$`), (m) => `${m[1]} ${m[2]} 回到限值以内（${lv(m[3])}${m[4] === 'high' ? '上限' : '下限'} ${m[5]} 已解除）`],
  // Rate of change.
  [new RegExp(String.raw`^(\S+) (fell|rose) (.+?) within ([\d.]+) s \(limit (.+)\): ${LEVEL}$`), (m) => `${m[1]} ${m[4]} 秒内${m[2] === 'fell' ? '下降' : '上升'} ${m[3]}（限值 ${m[5]}）：${lv(m[6])}`],
  [/^(\S+) change within ([\d.]+) s back below half the limit$/, (m) => `${m[1]} ${m[2]} 秒内的变化已回落到限值的一半以下`],
  // Stuck sensor.
  [new RegExp(String.raw`^(\S+) stuck at (.+?): no change beyond (.+?) for ([\d.]+) s: ${LEVEL}$`), (m) => `${m[1]} 停滞于 ${m[2]}：${m[4]} 秒内变化未超过 ${m[3]}：${lv(m[5])}`],
  [/^(\S+) moving again \((.*)\)$/, (m) => `${m[1]} 恢复变化（${m[2]}）`],
  // Out of range: sensor fault.
  [new RegExp(String.raw`^(\S+): no usable value for (\d+) readings in a row \(sensor fault\): ${LEVEL}$`), (m) => `${m[1]}：连续 ${m[2]} 个读数无可用值（传感器故障）：${lv(m[3])}`],
  [new RegExp(String.raw`^(\S+): non-finite value (\S+) for (\d+) readings in a row \(sensor fault\): ${LEVEL}$`), (m) => `${m[1]}：连续 ${m[3]} 个读数为非有限值 ${m[2]}（传感器故障）：${lv(m[4])}`],
  [new RegExp(String.raw`^(\S+) (.+?) (below|above) the sensor's physical (minimum|maximum) (.+) \(sensor fault\): ${LEVEL}$`), (m) => `${m[1]} ${m[2]} ${m[3] === 'below' ? '低于' : '高于'}传感器物理${m[4] === 'minimum' ? '下限' : '上限'} ${m[5]}（传感器故障）：${lv(m[6])}`],
  [/^(\S+) (.+) valid again$/, (m) => `${m[1]} ${m[2]} 恢复有效`],
  // Streaming anomaly and ARTime.
  [new RegExp(String.raw`^(\S+) (\S+) (.+) \(anomaly score ([\d.]+) ≥ ([\d.]+)\): ${LEVEL}$`), (m) => {
    const why = translateWith(anomalyWhy, m[3]!);
    return why === null ? '' : `${m[1]} ${m[2]} ${why}（异常分数 ${m[4]} ≥ ${m[5]}）：${lv(m[6])}`;
  }],
  [/^(\S+) back to usual after (\d+) readings$/, (m) => `${m[1]} 经 ${m[2]} 个读数后恢复常态`],
  [new RegExp(String.raw`^(\S+) (\S+): a pattern unlike every one learned \(ARTime confidence ([\d.]+) ≥ ([\d.]+)\): ${LEVEL}$`), (m) => `${m[1]} ${m[2]}：出现与所有已学模式都不同的形态（ARTime 置信度 ${m[3]} ≥ ${m[4]}）：${lv(m[5])}`],
  [/^(\S+) back to learned patterns for (\d+) readings$/, (m) => `${m[1]} 已连续 ${m[2]} 个读数回到已学模式`],
  // Several points of one device together.
  [new RegExp(String.raw`^(\S+) (\S+) and (\S+) (\S+) are both off their learned bands \(([\d.]+)× each at least, two points together alarm at ([\d.]+)×\): ${LEVEL}${BEGAN}$`), (m) => `${m[1]} ${m[2]} 与 ${m[3]} ${m[4]} 同时偏离已学区间（各至少 ${m[5]} 倍，两点同时偏离 ${m[6]} 倍即报警）：${lv(m[7])}${began(m[8])}`],
  [new RegExp(String.raw`^(\S+) (\S+) is ([\d.]+)× outside its learned band \((\d+) points together, alarm at ([\d.]+)×\): ${LEVEL}${BEGAN}$`), (m) => `${m[1]} ${m[2]} 偏离已学区间 ${m[3]} 倍（${m[4]} 个测点联合判断，${m[5]} 倍报警）：${lv(m[6])}${began(m[7])}`],
  [new RegExp(String.raw`^(\S+) (\S+) is ([\d.]+)× outside its learned band and its excess beyond the band has piled up to ([\d.]+) \(CUSUM; alarm at ([\d.]+), ([\d.]+)× the most it reached while learning\): ${LEVEL}${BEGAN}$`), (m) =>
    `${m[1]} ${m[2]} 偏离已学区间 ${m[3]} 倍，超出区间的累积量已达 ${m[4]}（CUSUM；${m[5]} 即报警，为学习期最大值的 ${m[6]} 倍）：${lv(m[7])}${began(m[8])}`],
  [new RegExp(String.raw`^(\S+) (\S+) has been beyond its learned band and its excess has piled up to ([\d.]+) \(CUSUM; watch at ([\d.]+), ([\d.]+)× the most it reached while learning\): ${LEVEL}${BEGAN}$`), (m) =>
    `${m[1]} ${m[2]} 已超出已学区间，超出区间的累积量已达 ${m[3]}（CUSUM；${m[4]} 即预警，为学习期最大值的 ${m[5]} 倍）：${lv(m[6])}${began(m[7])}`],
  [/^(\S+) watch withdrawn: not confirmed within (\d+) s \(score ([\d.]+)×\)$/, (m) => `${m[1]} 预警撤销：${m[2]} 秒内未确认（分数 ${m[3]} 倍）`],
  [/^(\S+) watch withdrawn: not confirmed after restart$/, (m) => `${m[1]} 预警撤销：重启后未再确认`],
  [/^(\S+) watch withdrawn: (\S+) not answering$/, (m) => `${m[1]} 预警撤销：${m[2]} 无应答`],
  [/^(\S+) back within its learned band \(score ([\d.]+)×, episode peak ([\d.]+)×; back for (\d+) s\)$/, (m) => `${m[1]} 回到已学区间内（分数 ${m[2]} 倍，本次峰值 ${m[3]} 倍；已恢复 ${m[4]} 秒）`],
  // A bridge's natural frequency drifting.
  [new RegExp(String.raw`^(\S+) (fell|rose) ([\d.]+ %) from its temperature-compensated baseline ([\d.]+) Hz(?: \(at ([-\d.]+) °C, outside the learned ([-\d.]+?)\.\.([-\d.]+) °C\))? over (\d+) bursts \(limit ([\d.]+ %)\): ${LEVEL}$`), (m) =>
    `${m[1]} 相对温度补偿后的基线 ${m[4]} Hz ${m[2] === 'fell' ? '下降' : '上升'} ${m[3]}${m[5] ? `（当前 ${m[5]} °C，超出已学温度范围 ${m[6]}..${m[7]} °C）` : ''}，${m[8]} 次振动采样平均（限值 ${m[9]}）：${lv(m[10])}`],
  [/^(\S+) back within ([\d.]+ %) of its baseline$/, (m) => `${m[1]} 回到基线的 ${m[2]} 以内`],
  // Rainstorm.
  [new RegExp(String.raw`^(\S+): ([\d.]+) mm in ([\d.]+) h reached ([\d.]+) mm: rainstorm ${LEVEL}$`), (m) => `${m[1]}：${m[3]} 小时雨量 ${m[2]} mm，达到 ${m[4]} mm：暴雨${lv(m[5])}`],
  [new RegExp(String.raw`^(\S+): ([\d.]+) mm in ([\d.]+) h stayed below ([\d.]+) mm for ([\d.]+) min: ${LEVEL}$`), (m) => `${m[1]}：${m[3]} 小时雨量 ${m[2]} mm，已持续 ${m[5]} 分钟低于 ${m[4]} mm：${lv(m[6])}`],
  // The edge's own conditions.
  [/^detector no longer configured$/, () => '检测器已从配置中移除'],
  [/^not confirmed after restart: (\S+) (.+)$/, (m) => `重启后未再确认：${m[1]} ${m[2]}`],
  [/^(\S+) answering again$/, (m) => `${m[1]} 恢复应答`],
  [/^(\S+) not answering: ([\s\S]+)$/, (m) => `${m[1]} 无应答：${commError(m[2]!)}`],
  // The cloud's watch and ingest.
  [/^no status or data for (.+?) \((\d+) heartbeats of (.+?)\); its devices: (.*)$/, (m) =>
    `${dur(m[1])}未收到状态或数据（${m[2]} 个心跳周期，每个 ${dur(m[3])}）；其设备：${m[4] === 'none known' ? '无已知设备' : m[4]!.replace(/ and (\d+) more$/, ' 等另 $1 台')}`],
  [/^gateway clock (.+?) (behind|ahead of) the cloud's \(limit (.+)\)$/, (m) => `网关时钟比云端${m[2] === 'behind' ? '慢' : '快'} ${dur(m[1])}（限值 ${dur(m[3])}）`],
  [/^backlog of (\d+) readings \(limit (\d+)\), oldest (.+?) old \(limit (.+)\)$/, (m) => `积压 ${m[1]} 个读数（限值 ${m[2]}），最早的已积压 ${dur(m[3])}（限值 ${dur(m[4])}）`],
  [/^no reading for (.+?) \(stale after (.+?)\) while its gateway reports$/, (m) => `网关在线，但已 ${dur(m[1])}无读数（超过 ${dur(m[2])}视为中断）`],
  [/^cloud refused a (telemetry|events) batch \((\w+)\): ([\s\S]*)$/, (m) => `云端拒收一批${m[1] === 'telemetry' ? '遥测' : '事件'}数据（${m[2]}）：${m[3]}`],
  [/^batches commit again$/, () => '数据批次恢复入库'],
  [/^config rolled back to the last good one: ([\s\S]*)$/, (m) => `配置已回滚到上一个正常版本：${m[1] === 'no reason given' ? '未给出原因' : rollbackWhy(m[1]!)}`],
  [/^a later config apply was confirmed$/, () => '之后下发的配置已确认生效'],
  [/^buffer disk full or failing(?: since (\S+))? \((\S+)\); (\d+) reading\(s\) could not be stored$/, (m) => `网关缓存磁盘已满或故障${m[1] ? `（自 ${m[1]}）` : ''}（${m[2]}）；${m[3]} 个读数未能保存`],
  [/^buffer disk takes writes again$/, () => '网关缓存磁盘恢复写入'],
  [/^buffer file deleted under the running agent: what it holds is lost when the agent stops$/, () => '网关运行中缓存文件被删除：网关程序停止时其中数据将丢失'],
  [/^two or more boxes report as (\S+): its buffer epoch switched (\d+) times within (\d+) min \(a cloned SD card or config\?\); their data is mixed under one gateway$/, (m) => `有两台以上设备以网关 ${m[1]} 的身份上报：其缓存纪元 ${m[3]} 分钟内切换 ${m[2]} 次（SD 卡或配置被复制？）；数据混在同一网关下`],
  [/^one box again: no epoch switch for (\d+) min$/, (m) => `恢复为一台设备：${m[1]} 分钟内无纪元切换`],
  [/^gateway revoked: no longer watched$/, () => '网关已吊销，不再监视'],
  [/^gateway heard again$/, () => '网关恢复通信'],
  [/^clock back within the limit$/, () => '时钟回到限值以内'],
  [/^backlog back within the limits$/, () => '积压回到限值以内'],
  [/^device reports again$/, () => '设备恢复上报'],
];

/** The edge's communication error codes (shared/src/errors.ts) as a duty officer reads them; the details stay for technicians. */
const commCodes: Record<string, string> = {
  LINK_DOWN: '通信链路中断',
  DEVICE_TIMEOUT: '设备应答超时',
  DEVICE_EXCEPTION: '设备返回异常',
  FRAME_INVALID: '报文无效',
};
function commError(err: string): string {
  if (err === 'no reply') return '无回复';
  const m = err.match(/^([A-Z_]+): ([\s\S]*?)(?: \(reopening every (\d+) ms\))?$/);
  const code = m && commCodes[m[1]!];
  if (!code) return err;
  return `${code}（${m[1]}）：${m[2]}${m[3] ? `（每 ${m[3]} ms 重新连接）` : ''}`;
}

/** Why the gateway rolled a config back (edge/src/agent/runner.ts), each of its '; '-joined reasons. */
const rollbackReasons: Rule[] = [
  [/^bus (\S+): no device answered within ([\d.]+) s \(under the last good config (.+) did\)$/, (m) => `总线 ${m[1]}：${m[2]} 秒内没有设备应答（上一个正常配置下 ${m[3]} 有应答）`],
  [/^it did not reach the cloud within ([\d.]+) s \(broker (\S+): ([\s\S]+)\)$/, (m) =>
    `${m[1]} 秒内未连上云端（代理 ${m[2]}：${m[3] === 'no connection' ? '无连接' : m[3] === 'connected, but nothing was accepted' ? '已连接，但没有数据被接收' : m[3]}）`],
  [/^the agent did not start on it: ([\s\S]+)$/, (m) => `网关程序无法以该配置启动：${m[1]}`],
  [/^the agent stopped (\d+) times on it before its check ended$/, (m) => `检查结束前网关程序以该配置停止了 ${m[1]} 次`],
];
/** Why the gateway rolled a config back, in Chinese where the reason's shape is known. */
export function rollbackWhy(reasons: string): string {
  // A start failure is one reason whose error may hold '; ' itself; the trial's lacks are joined by '; '.
  if (reasons.startsWith('the agent ')) return translateWith(rollbackReasons, reasons) ?? reasons;
  return reasons.split('; ').map((r) => translateWith(rollbackReasons, r) ?? r).join('；');
}

function translateWith(table: Rule[], text: string): string | null {
  for (const [re, to] of table) {
    const m = text.match(re);
    if (!m) continue;
    const out = to(m);
    if (out) return out;
  }
  return null;
}

/** The cause in Chinese, or null when its sentence shape is not one known here. */
export function translateCause(cause: string): string | null {
  return translateWith(rules, cause);
}

/**
 * The cause in Chinese where its shape is known, else as written. Given the alarm's point and its label
 * (the profile's, e.g. 电流), a translated cause that starts with the point's name starts with the label.
 */
export function causeInChinese(cause: string, point?: { name: string; label?: string | null }): string {
  const zh = translateCause(cause);
  if (zh === null) return cause;
  const label = point?.label;
  if (!label || !zh.startsWith(point.name)) return zh;
  const next = zh.charAt(point.name.length);
  return next === ' ' || next === '：' ? label + zh.slice(point.name.length) : zh;
}
