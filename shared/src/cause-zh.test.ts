import { describe, expect, it } from 'vitest';
import { causeInChinese, translateCause } from './cause-zh.js';

// One cause of every shape the edge and the cloud write, as they write it, and what a Chinese reader sees.
const samples: [string, string][] = [
  ['water_level 3.41 m ≥ red (I) high limit 3.2 m', 'water_level 3.41 m ≥ 红色（I级）上限 3.2 m'],
  ['pressure 0.12 MPa ≤ orange (II) low limit 0.15 MPa', 'pressure 0.12 MPa ≤ 橙色（II级）下限 0.15 MPa'],
  ['water_level 1.2 m back within limits (red (I) high limit 3.2 m cleared)', 'water_level 1.2 m 回到限值以内（红色（I级）上限 3.2 m 已解除）'],
  ['pressure fell 0.25 MPa within 10 s (limit 0.2 MPa): red (I)', 'pressure 10 秒内下降 0.25 MPa（限值 0.2 MPa）：红色（I级）'],
  ['level rose 1.5 within 5 s (limit 1): orange (II)', 'level 5 秒内上升 1.5（限值 1）：橙色（II级）'],
  ['pressure change within 10 s back below half the limit', 'pressure 10 秒内的变化已回落到限值的一半以下'],
  ['strain_4 stuck at 0.318 MPa: no change beyond 0.0001 MPa for 600 s: yellow (III)', 'strain_4 停滞于 0.318 MPa：600 秒内变化未超过 0.0001 MPa：黄色（III级）'],
  ['strain_4 moving again (0.321 MPa)', 'strain_4 恢复变化（0.321 MPa）'],
  ['water_level: no usable value for 5 readings in a row (sensor fault): yellow (III)', 'water_level：连续 5 个读数无可用值（传感器故障）：黄色（III级）'],
  ['water_level: non-finite value Infinity for 3 readings in a row (sensor fault): blue (IV)', 'water_level：连续 3 个读数为非有限值 Infinity（传感器故障）：蓝色（IV级）'],
  ["water_level -0.5 m below the sensor's physical minimum 0 m (sensor fault): yellow (III)", 'water_level -0.5 m 低于传感器物理下限 0 m（传感器故障）：黄色（III级）'],
  ["temp 180 °C above the sensor's physical maximum 150 °C (sensor fault): yellow (III)", 'temp 180 °C 高于传感器物理上限 150 °C（传感器故障）：黄色（III级）'],
  ['water_level 1.1 m valid again', 'water_level 1.1 m 恢复有效'],
  ['flow 812.5 unlike anything in its recent history (anomaly score 0.61 ≥ 0.5): yellow (III)', 'flow 812.5 与近期历史中的任何形态都不同（异常分数 0.61 ≥ 0.5）：黄色（III级）'],
  ['flow 812.5 unlike the same point of its 288-reading cycle (anomaly score 0.61 ≥ 0.5): yellow (III)', 'flow 812.5 与其 288 个读数周期中同一位置的数值不符（异常分数 0.61 ≥ 0.5）：黄色（III级）'],
  ['flow 812.5 its mean over the last 150 readings higher than usual (anomaly score 0.7 ≥ 0.5): yellow (III)', 'flow 812.5 最近 150 个读数的均值高于往常（异常分数 0.7 ≥ 0.5）：黄色（III级）'],
  ['flow 9e3 beyond its range so far (anomaly score 0.9 ≥ 0.5): yellow (III)', 'flow 9e3 超出迄今的数值范围（异常分数 0.9 ≥ 0.5）：黄色（III级）'],
  ['flow 3 its recent spread of values unlike any seen before (anomaly score 0.52 ≥ 0.5): yellow (III)', 'flow 3 近期数值的分布前所未见（异常分数 0.52 ≥ 0.5）：黄色（III级）'],
  ['flow back to usual after 40 readings', 'flow 经 40 个读数后恢复常态'],
  ['flow 812.5: a pattern unlike every one learned (ARTime confidence 0.71 ≥ 0.5): yellow (III)', 'flow 812.5：出现与所有已学模式都不同的形态（ARTime 置信度 0.71 ≥ 0.5）：黄色（III级）'],
  ['flow back to learned patterns for 30 readings', 'flow 已连续 30 个读数回到已学模式'],
  ['pressure 0.41 and flow 12.3 are both off their learned bands (3.1× each at least, two points together alarm at 3×): orange (II); the change began about 23 s earlier', 'pressure 0.41 与 flow 12.3 同时偏离已学区间（各至少 3.1 倍，两点同时偏离 3 倍即报警）：橙色（II级）；变化约始于 23 秒前'],
  ['pressure 0.41 is 6.2× outside its learned band (8 points together, alarm at 6×): orange (II)', 'pressure 0.41 偏离已学区间 6.2 倍（8 个测点联合判断，6 倍报警）：橙色（II级）'],
  ['flow 3.2 has been beyond its learned band and its excess has piled up to 5.5 (CUSUM; watch at 4, 4× the most it reached while learning): yellow (III); the change began about 9 s earlier', 'flow 3.2 已超出已学区间，超出区间的累积量已达 5.5（CUSUM；4 即预警，为学习期最大值的 4 倍）：黄色（III级）；变化约始于 9 秒前'],
  ['flow watch withdrawn: not confirmed within 30 s (score 0.8×)', 'flow 预警撤销：30 秒内未确认（分数 0.8 倍）'],
  ['flow 3.2 is 2.18× outside its learned band and its excess beyond the band has piled up to 12.01 (CUSUM; alarm at 8, 8× the most it reached while learning): orange (II); the change began about 4 s earlier', 'flow 3.2 偏离已学区间 2.18 倍，超出区间的累积量已达 12.01（CUSUM；8 即报警，为学习期最大值的 8 倍）：橙色（II级）；变化约始于 4 秒前'],
  ['pressure back within its learned band (score 1.2×, episode peak 9.8×; back for 9 s)', 'pressure 回到已学区间内（分数 1.2 倍，本次峰值 9.8 倍；已恢复 9 秒）'],
  ['f1 fell 4.10 % from its temperature-compensated baseline 2.310 Hz (at -3.5 °C, outside the learned -1.0..25.0 °C) over 10 bursts (limit 3.00 %): orange (II)', 'f1 相对温度补偿后的基线 2.310 Hz 下降 4.10 %（当前 -3.5 °C，超出已学温度范围 -1.0..25.0 °C），10 次振动采样平均（限值 3.00 %）：橙色（II级）'],
  ['f1 rose 3.50 % from its temperature-compensated baseline 2.310 Hz over 10 bursts (limit 3.00 %): orange (II)', 'f1 相对温度补偿后的基线 2.310 Hz 上升 3.50 %，10 次振动采样平均（限值 3.00 %）：橙色（II级）'],
  ['f1 back within 1.50 % of its baseline', 'f1 回到基线的 1.50 % 以内'],
  ['rain_total: 52.4 mm in 3 h reached 50 mm: rainstorm orange (II)', 'rain_total：3 小时雨量 52.4 mm，达到 50 mm：暴雨橙色（II级）'],
  ['rain_total: 10 mm in 3 h stayed below 25 mm for 30 min: orange (II)', 'rain_total：3 小时雨量 10 mm，已持续 30 分钟低于 25 mm：橙色（II级）'],
  ['chattering: raised 5 times within 10m, suppressed until quiet for 30m; water_level 3.41 m ≥ red (I) high limit 3.2 m', '抖动：10分内报警 5 次，抑制至连续 30分未再报警；water_level 3.41 m ≥ 红色（I级）上限 3.2 m'],
  ['alarm flood (alarm_flood), suppressed below orange (II); flow back to usual after 40 readings', '报警风暴（alarm_flood）期间，低于橙色（II级）的报警被抑制；flow 经 40 个读数后恢复常态'],
  ['alarm flood: 12 alarms raised within 1m; new alarms below orange (II) are suppressed until fewer than 3 remain in the window', '报警风暴：1分内发生 12 条报警；窗口内少于 3 条之前，低于橙色（II级）的新报警被抑制'],
  ['alarm flood over: 14 alarms raised during it', '报警风暴结束：期间共发生 14 条报警'],
  ['alarm flood over', '报警风暴结束'],
  ['acknowledged by 王工', '已由 王工 确认'],
  ['shelved by admin for 1h, until 2026-12-07T10:00:00.000Z', '已由 admin 搁置 1小时，至 2026-12-07T10:00:00.000Z'],
  ['unshelved by admin', '已由 admin 取消搁置'],
  ['shelving by an operator expired', '操作员 的搁置已到期'],
  ['no longer chattering: not raised for 30m5s', '抖动结束：已 30分5秒未再报警'],
  ['detector no longer configured', '检测器已从配置中移除'],
  ['not confirmed after restart: water_level 1.2', '重启后未再确认：water_level 1.2'],
  ['flood-1 answering again', 'flood-1 恢复应答'],
  ['flood-1 not answering: no reply', 'flood-1 无应答：无回复'],
  [
    'flood-1 not answering: LINK_DOWN: tcp 127.0.0.1:5020: lost: connection closed (reopening every 1000 ms)',
    'flood-1 无应答：通信链路中断（LINK_DOWN）：tcp 127.0.0.1:5020: lost: connection closed（每 1000 ms 重新连接）',
  ],
  ['lamp-1 not answering: DEVICE_TIMEOUT: unit 3: no reply within 1000 ms', 'lamp-1 无应答：设备应答超时（DEVICE_TIMEOUT）：unit 3: no reply within 1000 ms'],
  ['lamp-1 not answering: SOMETHING_ELSE: x', 'lamp-1 无应答：SOMETHING_ELSE: x'],
  ['no status or data for 5 min (3 heartbeats of 60 s); its devices: flood-1, lamp-2 and 4 more', '5分钟未收到状态或数据（3 个心跳周期，每个 60秒）；其设备：flood-1, lamp-2 等另 4 台'],
  ['no status or data for 5 min (3 heartbeats of 60 s); its devices: none known', '5分钟未收到状态或数据（3 个心跳周期，每个 60秒）；其设备：无已知设备'],
  ["gateway clock 12.5 s behind the cloud's (limit 10 s)", '网关时钟比云端慢 12.5秒（限值 10秒）'],
  ["gateway clock 3 min ahead of the cloud's (limit 10 s)", '网关时钟比云端快 3分钟（限值 10秒）'],
  ['backlog of 50000 readings (limit 10000), oldest 12 min old (limit 10 min)', '积压 50000 个读数（限值 10000），最早的已积压 12分钟（限值 10分钟）'],
  ['no reading for 5 min (stale after 3 min) while its gateway reports', '网关在线，但已 5分钟无读数（超过 3分钟视为中断）'],
  ['cloud refused a telemetry batch (Malformed): bad column', '云端拒收一批遥测数据（Malformed）：bad column'],
  ['batches commit again', '数据批次恢复入库'],
  ['buffer disk full or failing since 2026-12-07T21:50:22.000Z (SQLITE_IOERR_WRITE); 114 reading(s) could not be stored', '网关缓存磁盘已满或故障（自 2026-12-07T21:50:22.000Z）（SQLITE_IOERR_WRITE）；114 个读数未能保存'],
  ['buffer disk takes writes again', '网关缓存磁盘恢复写入'],
  ['buffer file deleted under the running agent: what it holds is lost when the agent stops', '网关运行中缓存文件被删除：网关程序停止时其中数据将丢失'],
  ['two or more boxes report as gw-box-1: its buffer epoch switched 4 times within 10 min (a cloned SD card or config?); their data is mixed under one gateway', '有两台以上设备以网关 gw-box-1 的身份上报：其缓存纪元 10 分钟内切换 4 次（SD 卡或配置被复制？）；数据混在同一网关下'],
  ['one box again: no epoch switch for 10 min', '恢复为一台设备：10 分钟内无纪元切换'],
  ['config rolled back to the last good one: no reason given', '配置已回滚到上一个正常版本：未给出原因'],
  // The gateway's reasons (edge/src/agent/runner.ts), each translated, '; ' inside a start error kept.
  [
    'config rolled back to the last good one: bus guanghe-rd: no device answered within 60 s (under the last good config flood-1, water-1 did); it did not reach the cloud within 60 s (broker mqtts://ops:8883: no connection)',
    '配置已回滚到上一个正常版本：总线 guanghe-rd：60 秒内没有设备应答（上一个正常配置下 flood-1, water-1 有应答）；60 秒内未连上云端（代理 mqtts://ops:8883：无连接）',
  ],
  ['config rolled back to the last good one: the agent did not start on it: buffer: disk full; retry', '配置已回滚到上一个正常版本：网关程序无法以该配置启动：buffer: disk full; retry'],
  ['config rolled back to the last good one: the agent stopped 3 times on it before its check ended', '配置已回滚到上一个正常版本：检查结束前网关程序以该配置停止了 3 次'],
  ['config rolled back to the last good one: something new', '配置已回滚到上一个正常版本：something new'],
  ['a later config apply was confirmed', '之后下发的配置已确认生效'],
  ['gateway revoked: no longer watched', '网关已吊销，不再监视'],
  ['gateway heard again', '网关恢复通信'],
  ['clock back within the limit', '时钟回到限值以内'],
  ['backlog back within the limits', '积压回到限值以内'],
  ['device reports again', '设备恢复上报'],
];

describe('causeInChinese', () => {
  it.each(samples)('%s', (en, zh) => {
    expect(translateCause(en)).toBe(zh);
  });

  it('shows a cause of an unknown shape, or one cut at its length limit, as it was written', () => {
    expect(translateCause('a newer gateway says something new')).toBeNull();
    expect(causeInChinese('a newer gateway says something new')).toBe('a newer gateway says something new');
    const cut = 'pressure 0.41 is 6.2× outside its learned band (8 points together, alarm at 6×): ora…';
    expect(causeInChinese(cut)).toBe(cut);
    // A wrapper around an unknown inner cause translates what it knows and keeps the rest.
    expect(causeInChinese('chattering: raised 5 times within 10m, suppressed until quiet for 30m; something new')).toBe('抖动：10分内报警 5 次，抑制至连续 30分未再报警；something new');
  });

  it("starts with the point's label when given one, and only where the cause starts with the point", () => {
    const current = { name: 'current', label: '电流' };
    expect(causeInChinese('current 9.8 A ≥ red (I) high limit 8 A', current)).toBe('电流 9.8 A ≥ 红色（I级）上限 8 A');
    expect(causeInChinese('current: no usable value for 5 readings in a row (sensor fault): yellow (III)', current)).toBe('电流：连续 5 个读数无可用值（传感器故障）：黄色（III级）');
    // Another point whose name begins the same, no label, an unknown shape: left as they are.
    expect(causeInChinese('current_2 9.8 A ≥ red (I) high limit 8 A', current)).toBe('current_2 9.8 A ≥ 红色（I级）上限 8 A');
    expect(causeInChinese('current 9.8 A ≥ red (I) high limit 8 A', { name: 'current' })).toBe('current 9.8 A ≥ 红色（I级）上限 8 A');
    expect(causeInChinese('current did something new', current)).toBe('current did something new');
  });

  it('never lets an anomaly cause of an unknown reason pass half-translated', () => {
    expect(translateCause('flow 3 some new reason (anomaly score 0.52 ≥ 0.5): yellow (III)')).toBeNull();
  });
});
