// The original's usage text, byte for byte (tabs included). The program name
// is always "vzcptcheck", whatever argv[0] is.
export const USAGE =
  "Usage:\tvzcptcheck <command> [argument ...]\n" +
  " [S]\tvzcptcheck version\t\tshow cpt in-kernel version\n" +
  " [D]\tvzcptcheck version <ver>\ttest if <ver> version is supported\n" +
  " [D]\tvzcptcheck caps\t\t\tshow CPU capabilities\n" +
  " [S]\tvzcptcheck caps <caps>\t\ttest if <caps> work\n" +
  " [S]\tvzcptcheck caps <veid> <caps>\ttest if <caps> work for running <veid>\n" +
  "\n" +
  "[S] -- run this on source node\n" +
  "[D] -- run on destination node\n";
