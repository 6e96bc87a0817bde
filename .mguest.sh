N=/tmp/ib-wt-M/src/cli/odpt; R=/mnt/dbgk-res
free -m > $R/free.txt
modprobe vfio-pci 2>>$R/err.txt
t0=$(date +%s.%N); $N -v --format=tap iommufd edu --sizes=4K --iters=2 > $R/edu-q.tap 2>$R/edu-q.err; echo "edu-q rc=$? $(date +%s.%N) $t0" >> $R/rc.txt
t0=$(date +%s.%N); $N -v -j -o $R/edu-big.json iommufd edu --sizes=256M,1G --iters=3 --dma-pages=8 2>$R/edu-big.err; echo "edu-big rc=$? $(date +%s.%N) $t0" >> $R/rc.txt
d=$(for x in /sys/bus/pci/devices/*; do [ "$(cat $x/vendor):$(cat $x/device)" = 0x1234:0x11e8 ] && echo ${x##*/}; done | head -1)
echo "edu=$d drv=$(readlink /sys/bus/pci/devices/$d/driver)" >> $R/rc.txt
echo vfio-pci > /sys/bus/pci/devices/$d/driver_override; echo $d > /sys/bus/pci/drivers/vfio-pci/bind 2>>$R/err.txt
ls -l /dev/vfio/devices/ >> $R/rc.txt; ls /sys/bus/pci/devices/$d/vfio-dev/ >> $R/rc.txt
v=/dev/vfio/devices/$(ls /sys/bus/pci/devices/$d/vfio-dev/ | head -1)
$N iommufd probe --vfio=$v > $R/probe-vfio.txt 2>&1; echo "probe rc=$?" >> $R/rc.txt
$N --format=tap iommufd edu --sizes=4K --iters=1 --dma-pages=1 > $R/edu-vfio.tap 2>&1; echo "edu-vfio rc=$? drv=$(readlink /sys/bus/pci/devices/$d/driver)" >> $R/rc.txt
echo $d > /sys/bus/pci/drivers/vfio-pci/unbind; echo > /sys/bus/pci/devices/$d/driver_override
echo "after drv=$(readlink /sys/bus/pci/devices/$d/driver)" >> $R/rc.txt
dmesg > $R/dmesg.txt
