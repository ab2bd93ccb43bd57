/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mhd_dl.h: libmicrohttpd loaded on first use (mhd_dl.c). */
#ifndef XCHAN_MHD_DL_H
#define XCHAN_MHD_DL_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <microhttpd.h>

/* MHD_start_daemon with metrics.c's options on sa: NULL if it or the library fails. */
struct MHD_Daemon *mhd_start(const struct sockaddr_in *sa, MHD_AccessHandlerCallback answer,
			     void *cls);
/* Why libmicrohttpd could not be loaded, NULL once it is. */
const char *mhd_dl_error(void);

#endif
