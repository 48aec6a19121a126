/* commands.h: the table of aezoo commands. main.c dispatches argv[1]
 * through it and lists it in `aezoo --help`. To add a command: write
 * cli/cmd_NAME.c defining `int cmd_NAME(int argc, char **argv)` (argv[0]
 * is the command's name; return CLI_OK / CLI_FAIL / CLI_USAGE from
 * common.h), add its source to cli_src in cli/meson.build, and add one
 * CLI_COMMAND row below, in the order `aezoo --help` shows them. An '_' in
 * a command's name is typed and shown as '-' (score_field: score-field). */
#ifndef AE_CLI_COMMANDS_H
#define AE_CLI_COMMANDS_H

/* CLI_COMMAND(name, one-line summary) */
#define CLI_COMMAND_TABLE                                                                   \
  CLI_COMMAND(list, "list every zoo model, its description and its settings")              \
  CLI_COMMAND(train, "train a model; writes a checkpoint, train.csv and pictures")          \
  CLI_COMMAND(eval, "a checkpoint's test loss, its terms, per-pixel MSE, vae's ELBO")       \
  CLI_COMMAND(reconstruct, "a picture of inputs above their reconstructions")               \
  CLI_COMMAND(sample, "a picture of samples: vae's prior, or a Gaussian fitted to the codes") \
  CLI_COMMAND(encode, "the codes of a data set as .npy (2-unit codes: a scatter plot)")     \
  CLI_COMMAND(interpolate, "decoded straight lines in code space between test images, beside pixel-space ones") \
  CLI_COMMAND(tangents, "the encoder Jacobian's leading singular directions beside local PCA of neighbours") \
  CLI_COMMAND(score_field, "a 2-D model's reconstruction field r(x) - x as arrows over its data") \
  CLI_COMMAND(retrieve, "semantic hashing: binary codes ranked by Hamming distance, against PCA and pixels") \
  CLI_COMMAND(gradcheck, "check a model's gradients against finite differences in float64")   \
  CLI_COMMAND(plot, "a run's train.csv as loss curves in a PNG")

#define CLI_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
CLI_COMMAND_TABLE
#undef CLI_COMMAND

#endif
