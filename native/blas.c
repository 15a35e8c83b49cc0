/*
 * momentum-lab's native GEMM: a CBLAS found at run time with dlopen (nothing is linked at build time, so the
 * addon builds on a machine without a BLAS and reports "no BLAS" instead of failing to load), and sgemm called on
 * the engine's own memory: a Float32Array's bytes are handed to the BLAS as they are, with no copy.
 *
 * Exports: open(paths: string[], tuned: boolean) → { path, config, setsThreads } | { error }; setThreads(n);
 * sgemm(transA, transB, M, N, K, A, B, C, accumulate). Row-major, as src/core/engine/kernels/api.ts's gemm.
 * With `tuned`, a library without a thread-count setter is passed over: that is the reference BLAS (Debian's
 * libblas3 behind libblas.so.3), several times slower than the WebAssembly kernels.
 */
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef void (*set_threads_ptr_fn)(const int *);
typedef char *(*config_fn)(void);

static void *lib = NULL;
static sgemm_fn sgemm = NULL;
static set_threads_fn set_threads = NULL;     /* openblas_set_num_threads, bli_thread_set_num_threads */
static set_threads_ptr_fn mkl_set_threads = NULL; /* MKL_Set_Num_Threads takes its argument by pointer in mkl_rt */
static char opened_path[1024];

#define CALL(env, expr) do { if ((expr) != napi_ok) { napi_throw_error((env), NULL, "momentum-lab native BLAS: N-API call failed: " #expr); return NULL; } } while (0)

static napi_value make_string(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* open(paths, tuned): tries each path in order; the first that loads and exports cblas_sgemm (and, if tuned, a
 * thread-count setter) is kept for the process. */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  bool tuned = false;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CALL(env, napi_create_object(env, &result));
  if (lib == NULL) {
    uint32_t n = 0;
    char tried[2048] = "";
    CALL(env, napi_get_array_length(env, argv[0], &n));
    if (argc > 1) CALL(env, napi_get_value_bool(env, argv[1], &tuned));
    for (uint32_t i = 0; i < n && lib == NULL; i++) {
      napi_value item;
      char path[1024];
      size_t len = 0;
      CALL(env, napi_get_element(env, argv[0], i, &item));
      CALL(env, napi_get_value_string_utf8(env, item, path, sizeof path, &len));
      void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
      void *f = h != NULL ? dlsym(h, "cblas_sgemm") : NULL;
      bool threads = h != NULL && (dlsym(h, "openblas_set_num_threads") != NULL
        || dlsym(h, "bli_thread_set_num_threads") != NULL || dlsym(h, "MKL_Set_Num_Threads") != NULL);
      if (f == NULL || (tuned && !threads)) {
        size_t used = strlen(tried);
        snprintf(tried + used, sizeof tried - used, "%s%s: %s", used > 0 ? "; " : "", path,
          h == NULL ? "not loadable" : f == NULL ? "no cblas_sgemm" : "no thread control (the reference BLAS)");
        if (h != NULL) dlclose(h);
        continue;
      }
      lib = h;
      sgemm = (sgemm_fn)f;
      set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
      if (set_threads == NULL) set_threads = (set_threads_fn)dlsym(h, "bli_thread_set_num_threads");
      mkl_set_threads = (set_threads_ptr_fn)dlsym(h, "MKL_Set_Num_Threads");
      snprintf(opened_path, sizeof opened_path, "%s", path);
    }
    if (lib == NULL) {
      CALL(env, napi_set_named_property(env, result, "error", make_string(env, n == 0 ? "no library to try" : tried)));
      return result;
    }
  }
  config_fn cfg = (config_fn)dlsym(lib, "openblas_get_config");
  CALL(env, napi_set_named_property(env, result, "path", make_string(env, opened_path)));
  CALL(env, napi_set_named_property(env, result, "config", make_string(env, cfg != NULL ? cfg() : "")));
  napi_value can;
  CALL(env, napi_get_boolean(env, set_threads != NULL || mkl_set_threads != NULL, &can));
  CALL(env, napi_set_named_property(env, result, "setsThreads", can));
  return result;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CALL(env, napi_get_value_int32(env, argv[0], &n));
  if (set_threads != NULL) set_threads(n);
  else if (mkl_set_threads != NULL) mkl_set_threads(&n);
  return NULL;
}

/* The data pointer of a Float32Array holding at least `need` elements, or NULL after throwing. */
static float *floats(napi_env env, napi_value v, int64_t need, const char *what) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  char msg[128];
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    snprintf(msg, sizeof msg, "native sgemm: %s must be a Float32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  if ((int64_t)length < need) {
    snprintf(msg, sizeof msg, "native sgemm: %s has %zu elements, needs %lld", what, length, (long long)need);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  return (float *)data;
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  bool ta, tb, acc;
  int32_t M, N, K;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (sgemm == NULL) { napi_throw_error(env, NULL, "native sgemm: no BLAS opened"); return NULL; }
  if (argc < 9) { napi_throw_type_error(env, NULL, "native sgemm: 9 arguments expected"); return NULL; }
  CALL(env, napi_get_value_bool(env, argv[0], &ta));
  CALL(env, napi_get_value_bool(env, argv[1], &tb));
  CALL(env, napi_get_value_int32(env, argv[2], &M));
  CALL(env, napi_get_value_int32(env, argv[3], &N));
  CALL(env, napi_get_value_int32(env, argv[4], &K));
  CALL(env, napi_get_value_bool(env, argv[8], &acc));
  if (M < 0 || N < 0 || K < 0) { napi_throw_range_error(env, NULL, "native sgemm: negative dimension"); return NULL; }
  float *A = floats(env, argv[5], (int64_t)M * K, "A");
  if (A == NULL) return NULL;
  float *B = floats(env, argv[6], (int64_t)K * N, "B");
  if (B == NULL) return NULL;
  float *C = floats(env, argv[7], (int64_t)M * N, "C");
  if (C == NULL) return NULL;
  if (M == 0 || N == 0) return NULL;
  if (K == 0) { /* BLAS leaves C·β alone; the contract says C = 0 (or C unchanged when accumulating) */
    if (!acc) memset(C, 0, sizeof(float) * (size_t)M * (size_t)N);
    return NULL;
  }
  sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N,
    acc ? 1.0f : 0.0f, C, N);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "open", NULL, Open, NULL, NULL, NULL, napi_default, NULL },
    { "setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL },
    { "sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL },
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
