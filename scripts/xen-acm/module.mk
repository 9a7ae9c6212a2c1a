# scripts/xen-acm/module.mk - `make xen-acm`: Debian's Xen 4.17 hypervisor
# with the hvsec ACM compiled in as an XSM module (hooks/xen/, acm/),
# selected at boot with `xsm=acm`.  Result: build/xen-acm/xen.gz and
# xen-syms, cached on a hash of the patch and our sources.  Needs root the
# first time (deb-src entry, build packages).  See scripts/xen-acm/build.sh.
.PHONY: xen-acm
xen-acm: $(DEPS_STAMP)
	$(Q)bash scripts/xen-acm/build.sh
