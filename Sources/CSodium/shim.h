#ifndef ROOMKEY_CSODIUM_SHIM_H
#define ROOMKEY_CSODIUM_SHIM_H
#include <sodium.h>
#endif
