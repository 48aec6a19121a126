/* code_plot.h: a figure of an autoencoder's codes (`aezoo encode --plot`,
 * codes.png): one point per example, coloured by its label with the class
 * names in the legend (Fashion-MNIST's names for "fashion-mnist", digits
 * for "mnist"). 2-unit codes are drawn as they are (axes "code unit 1",
 * "code unit 2"); wider codes are projected onto their first two principal
 * components (io/pca.h; axes "PC 1 (xx% of variance)" and the title says
 * "PCA of D-unit codes"); 1-unit codes are drawn against the example index. */
#ifndef AE_IO_CODE_PLOT_H
#define AE_IO_CODE_PLOT_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "base/tensor.h"
#include "plot.h"

/* The class names of a data set by its ae_dataset name ("fashion-mnist",
 * "mnist"), and their count; NULL (names "class k") for others. */
AE_API const char *const *ae_code_plot_class_names(const char *dataset, int *nclasses);

/* The figure (side x side pixels) of codes (N, D) or (N, ...) flattened per
 * example; labels may be NULL. title: e.g. "codes of vae on fashion-mnist".
 * xy (may be NULL): N x 2, the plotted coordinates of each example. NULL
 * with ae_last_error on bad sizes or out of memory. Save it with
 * ae_plot_save, free it with ae_plot_free. */
AE_API ae_plot *ae_code_plot(const ae_tensor *codes, const int32_t *labels, const char *dataset, const char *title, int side,
                      double *xy);

#endif
