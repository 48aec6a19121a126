/* test_footprint.c: the memory estimate of zoo/footprint.h, made from the
 * settings before a model is built, against the parameter counts of the
 * models really built (every zoo model at its defaults on 28x28 images and
 * on 2-D points: the estimate is never below the true count and within a
 * factor of 4 of it); absurd settings (ae hidden=1000000, seq-ae
 * hidden=100000) are refused with the estimate in the message; and the
 * strict settings parser: empty list elements, hex, inf, nan, spaces,
 * repeated keys (ae_settings_parse_all; ae_model_new keeps "the last
 * wins" for library callers that layer settings). */
#include <criterion/criterion.h>
#include <string.h>

#include "aezoo.h"

static ae_shape example_for(const ae_model_def *d) {
  (void)d;
  return AE_SHAPE(1, 28, 28);
}

Test(footprint, estimate_bounds_the_real_parameter_count_at_the_defaults) {
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    ae_shape ex = example_for(d);
    ae_model *m = ae_model_new(d->name, 0, NULL, ex, 1);
    cr_assert(m, "%s: %s", d->name, ae_last_error());
    int64_t real = ae_model_param_count(m), est = ae_model_param_estimate(d, &m->settings, ex);
    cr_assert_geq(est, real, "%s: estimate %lld below the real count %lld", d->name, (long long)est, (long long)real);
    cr_assert_leq(est, 4 * real, "%s: estimate %lld far above the real count %lld", d->name, (long long)est,
                  (long long)real);
    int64_t bytes = ae_model_footprint(d, &m->settings, ex, 128);
    cr_assert_geq(bytes, (int64_t)(4 * real * (int64_t)sizeof(ae_real)));
    cr_assert_lt(bytes, (int64_t)2 << 30, "%s at its defaults: %lld bytes", d->name, (long long)bytes);
    cr_assert_eq(ae_model_check_footprint(d, &m->settings, ex, 128, (int64_t)4 << 30), 0, "%s",
                 ae_last_error());
    ae_model_free(m);
  }
}

Test(footprint, points_data_too) {
  const char *mlps[] = {"ae", "linear-ae", "deep-ae", "stacked-ae", "dae", "sparse-l1", "vae", "psd", "cae"};
  for (size_t i = 0; i < sizeof mlps / sizeof mlps[0]; i++) {
    const ae_model_def *d = ae_zoo_find(mlps[i]);
    ae_model *m = ae_model_new(d->name, 0, NULL, AE_SHAPE(2), 1);
    cr_assert(m, "%s: %s", d->name, ae_last_error());
    cr_assert_geq(ae_model_param_estimate(d, &m->settings, AE_SHAPE(2)), ae_model_param_count(m), "%s: %lld < %lld",
                  d->name, (long long)ae_model_param_estimate(d, &m->settings, AE_SHAPE(2)),
                  (long long)ae_model_param_count(m));
    ae_model_free(m);
  }
}

static int64_t estimate_with(const char *model, const char *kv, ae_shape ex, int64_t batch) {
  const ae_model_def *d = ae_zoo_find(model);
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  cr_assert_eq(ae_settings_parse(&s, kv), 0, "%s", ae_last_error());
  return ae_model_footprint(d, &s, ex, batch);
}

Test(footprint, absurd_settings_are_refused_with_the_estimate) {
  const ae_model_def *d = ae_zoo_find("ae");
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  cr_assert_eq(ae_settings_parse(&s, "hidden=1000000"), 0);
  int64_t need = ae_model_footprint(d, &s, AE_SHAPE(1, 28, 28), 64);
  /* 784 x 1e6 and 1e6 x 30, mirrored: 1.6e9 parameters, 4 floats each */
  cr_assert_gt(need, (int64_t)24 << 30, "%lld", (long long)need);
  cr_assert_eq(ae_model_check_footprint(d, &s, AE_SHAPE(1, 28, 28), 64, (int64_t)8 << 30), -1);
  const char *e = ae_last_error();
  cr_assert(strstr(e, "GiB") && strstr(e, "need about") && strstr(e, "8.0 GiB"), "%s", e);
  char num[32];
  snprintf(num, sizeof num, "%lld bytes", (long long)need);
  cr_assert(strstr(ae_last_error(), num), "'%s' should give the estimate %s", ae_last_error(), num);
  /* recurrent widths are quadratic */
  cr_assert_gt(estimate_with("seq-ae", "hidden=100000", AE_SHAPE(1, 28, 28), 64), (int64_t)100 << 30);
  /* probes and corruptions multiply the activations */
  cr_assert_gt(estimate_with("cae-h", "corruptions=256", AE_SHAPE(1, 28, 28), 128),
               estimate_with("cae-h", "corruptions=1", AE_SHAPE(1, 28, 28), 128));
  cr_assert_gt(estimate_with("cae", "probes=256", AE_SHAPE(1, 28, 28), 128),
               estimate_with("cae", "probes=1", AE_SHAPE(1, 28, 28), 128));
  /* and the batch */
  cr_assert_gt(estimate_with("conv-dae", "sigma=0.5", AE_SHAPE(1, 28, 28), 4096),
               estimate_with("conv-dae", "sigma=0.5", AE_SHAPE(1, 28, 28), 64));
  cr_assert_gt(ae_available_memory(), 0);
}

static void refused(const char *model, const char *kv, const char *sub) {
  const ae_model_def *d = ae_zoo_find(model);
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  cr_assert_eq(ae_settings_parse(&s, kv), -1, "%s %s accepted", model, kv);
  const char *err = ae_last_error();
  cr_assert(strstr(err, sub), "%s %s: '%s' should say '%s'", model, kv, err, sub);
}

Test(footprint, strict_settings) {
  refused("ae", "hidden=1,,2", "element 2 of the list is empty");
  refused("ae", "hidden=,1", "element 1 of the list is empty");
  refused("ae", "hidden=1,", "element 2 of the list is empty");
  refused("ae", "hidden=", "empty");
  refused("ae", "hidden=0x10", "hidden=0x10");
  refused("ae", "hidden= 5", "hidden= 5");
  refused("ae", "hidden=+5", "hidden=+5");
  refused("ae", "weight_decay=0x1", "expected a number");
  refused("ae", "weight_decay=inf", "expected a number");
  refused("ae", "weight_decay=nan", "expected a number");
  refused("ae", "weight_decay= 1", "expected a number");
  refused("cae", "probes=1000000", "[1, 1000]");
  refused("cae-h", "probes=1001", "[1, 1000]");
  refused("cae-h", "corruptions=1000", "[1, 256]");
  refused("psd", "steps=10000", "[0, 1000]");
  const ae_model_def *d = ae_zoo_find("ae");
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  cr_assert_eq(ae_settings_parse(&s, "weight_decay=1e-3"), 0, "%s", ae_last_error());
  cr_assert_eq(ae_settings_parse(&s, "hidden=12,3"), 0, "%s", ae_last_error());
  const char *twice[] = {"hidden=3", "loss=bce", "hidden=4"};
  ae_settings_init(&s, d->settings, d->nsettings);
  cr_assert_eq(ae_settings_parse_all(&s, 3, twice), -1);
  const char *e = ae_last_error();
  cr_assert(strstr(e, "hidden given twice") && strstr(e, "hidden=3") && strstr(e, "hidden=4"), "%s", e);
}
