#ifndef ROOMKEY_CQRENCODE_SHIM_H
#define ROOMKEY_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
