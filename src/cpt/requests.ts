// ioctl request numbers of /proc/cpt and /proc/rst on x86_64.
// _IOW('-', nr, int) = 0x40000000 | 4 << 16 | 0x2d << 8 | nr.

const iow = (nr: number): number => (0x40000000 | (4 << 16) | (0x2d << 8) | nr) >>> 0;

export const CPT_SET_VEID = iow(4);
export const CPT_TEST_CAPS = iow(19);
export const CPT_TEST_VECAPS = iow(20);
export const CPT_SET_ERRORFD = iow(21);
export const CPT_TEST_VERSION = iow(26);
export const CPT_TEST_VECAPS2 = iow(30);

export const REQUEST_NAMES: Readonly<Record<number, string>> = {
  [CPT_SET_VEID]: "CPT_SET_VEID",
  [CPT_TEST_CAPS]: "CPT_TEST_CAPS",
  [CPT_TEST_VECAPS]: "CPT_TEST_VECAPS",
  [CPT_SET_ERRORFD]: "CPT_SET_ERRORFD",
  [CPT_TEST_VERSION]: "CPT_TEST_VERSION",
  [CPT_TEST_VECAPS2]: "CPT_TEST_VECAPS2",
};

export const CPT_PATH = "/proc/cpt";
export const RST_PATH = "/proc/rst";
