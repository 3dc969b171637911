// OpenBLAS's C interface, for the optional BLAS kernel of DigitsCore (the OpenBLAS trait).
#include <cblas.h>
