/* Panic values of Go's basic kinds, named and predeclared, print as Go's
 * printpanicval prints them (panic_test.go's
 * TestPanicWithDirectlyPrintableCustomTypes and testprog/panicprint.go;
 * the predeclared ones as captured from Go 1.19).  argv[1] names the case.
 */
#include <gort.h>
#include <stdio.h>
#include <string.h>

static const gort_type MyBool = GORT_BASIC_TYPE("main.MyBool", BOOL);
static const gort_type MyComplex128 = GORT_BASIC_TYPE("main.MyComplex128", COMPLEX128);
static const gort_type MyComplex64 = GORT_BASIC_TYPE("main.MyComplex64", COMPLEX64);
static const gort_type MyFloat32 = GORT_BASIC_TYPE("main.MyFloat32", FLOAT32);
static const gort_type MyFloat64 = GORT_BASIC_TYPE("main.MyFloat64", FLOAT64);
static const gort_type MyInt = GORT_BASIC_TYPE("main.MyInt", INT);
static const gort_type MyInt8 = GORT_BASIC_TYPE("main.MyInt8", INT8);
static const gort_type MyInt16 = GORT_BASIC_TYPE("main.MyInt16", INT16);
static const gort_type MyInt32 = GORT_BASIC_TYPE("main.MyInt32", INT32);
static const gort_type MyInt64 = GORT_BASIC_TYPE("main.MyInt64", INT64);
static const gort_type MyString = GORT_BASIC_TYPE("main.MyString", STRING);
static const gort_type MyUint = GORT_BASIC_TYPE("main.MyUint", UINT);
static const gort_type MyUint8 = GORT_BASIC_TYPE("main.MyUint8", UINT8);
static const gort_type MyUint16 = GORT_BASIC_TYPE("main.MyUint16", UINT16);
static const gort_type MyUint32 = GORT_BASIC_TYPE("main.MyUint32", UINT32);
static const gort_type MyUint64 = GORT_BASIC_TYPE("main.MyUint64", UINT64);
static const gort_type MyUintptr = GORT_BASIC_TYPE("main.MyUintptr", UINTPTR);
static const gort_type Int = GORT_BASIC_TYPE("int", INT);
static const gort_type Float64 = GORT_BASIC_TYPE("float64", FLOAT64);
static const gort_type Float32 = GORT_BASIC_TYPE("float32", FLOAT32);
static const gort_type Complex128 = GORT_BASIC_TYPE("complex128", COMPLEX128);
static const gort_type Bool = GORT_BASIC_TYPE("bool", BOOL);
static const gort_type Uint8 = GORT_BASIC_TYPE("uint8", UINT8);

static const bool vtrue = true, vfalse = false;
/* Complex values as C lays out double/float _Complex: real, imaginary. */
static const double c128[2] = {32.1, 10}, c1[2] = {1, 2};
static const float c64[2] = {0.11f, 3};
static const float f32 = -93.7f, f32tenth = 0.1f;
static const double f64 = -93.7, f15 = 1.5, ftiny = 1e-300, fzero = 0;
static const int64_t i64 = 93, i42 = 42;
static const int8_t i8 = 93, ineg = -5;
static const int16_t i16 = 93;
static const int32_t i32 = 93;
static const uint64_t u64 = 93;
static const uint8_t u8 = 93, u200 = 200;
static const uint16_t u16 = 93;
static const uint32_t u32 = 93;
static const uintptr_t uptr = 93;

static const struct {
    const char *name;
    const gort_type *type;
    const void *value;
} cases[] = {
    {"panicCustomBool", &MyBool, &vtrue},
    {"panicCustomComplex128", &MyComplex128, c128},
    {"panicCustomComplex64", &MyComplex64, c64},
    {"panicCustomFloat32", &MyFloat32, &f32},
    {"panicCustomFloat64", &MyFloat64, &f64},
    {"panicCustomInt", &MyInt, &i64},
    {"panicCustomInt8", &MyInt8, &i8},
    {"panicCustomInt16", &MyInt16, &i16},
    {"panicCustomInt32", &MyInt32, &i32},
    {"panicCustomInt64", &MyInt64, &i64},
    {"panicCustomString", &MyString, "Panic"},
    {"panicCustomUint", &MyUint, &u64},
    {"panicCustomUint8", &MyUint8, &u8},
    {"panicCustomUint16", &MyUint16, &u16},
    {"panicCustomUint32", &MyUint32, &u32},
    {"panicCustomUint64", &MyUint64, &u64},
    {"panicCustomUintptr", &MyUintptr, &uptr},
    {"int", &Int, &i42},
    {"neg", &MyInt8, &ineg},
    {"float", &Float64, &f15},
    {"float32", &Float32, &f32tenth},
    {"tiny", &Float64, &ftiny},
    {"zero", &Float64, &fzero},
    {"complex", &Complex128, c1},
    {"bool", &Bool, &vfalse},
    {"uint8", &Uint8, &u200},
    {"mstr", &MyString, "two\nlines"},
};

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(c, cases[i].name) == 0)
            gort_panic_value(cases[i].type, cases[i].value);
    fprintf(stderr, "unknown case %s\n", c);
    return 1;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
