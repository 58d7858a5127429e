# The entry point of the bcryptprimitives.dll forwarder: DllMain returns
# TRUE for every reason. Built by .ci/wine.sh with the mingw binutils.
	.text
	.globl	DllMain
DllMain:
	movl	$1, %eax
	ret
