/**
 * SL 651-2014 frames published by others, as printed, for tests, the fuzz seeds
 * and the `lifeline decode --help` example. Source of all six:
 * "SL651-2014全协议解析(HEX编码格式)", https://www.toymoban.com/news/detail-686475.html
 * (same text at https://e-com-net.com/article/1736683930196697088.htm).
 * The author's decoded values: 30H "当前降水量:0.5mm,降水量累计值:0.5mm,瞬时河道水位:0.127m,
 * 电源电压:11.15V"; 32H rainfall 4 mm, cumulative 4 mm, level 10.49 m (and 10.99 V in the frame).
 */
export const SL651_PUBLISHED_FRAMES = {
  /** 2FH link keep-alive, station 0012345678 → centre 01. */
  keepAlive: '7E7E01001234567812342F0008020003591011155111036BCA',
  /** 2FH link keep-alive, station 9876543210 → centre 00, serial 7E08. */
  keepAlive2: '7E7E00987654321012342F0008027E0822101110074703C3AE',
  /** 30H test report of river station 0012345678. */
  test30: '7E7E010012345678123430002B020003591011154947F1F1001234567848F0F0591011154920190000052619000005392300000127381211150320FA',
  /** The centre's reply to it (ESC: stay on line). */
  test30Reply: '7E7E00123456780112343080080200035910111549471B75D4',
  /** 32H timed report of river station 0011223344 to centre 05, password 03E8. */
  timed32: '7E7E05001122334403E832002B020034170718110016F1F1001122334448F0F01707181100201900004026190000403923000104903812109903A421',
  /** The centre's reply to it. */
  timed32Reply: '7E7E00112233440503E83280080200341707181100161BE5D4',
} as const;
