-- Prosody's own CPU time, resident memory and Lua heap under the Prometheus process collector's names, so
-- mod_http_openmetrics (GET /metrics) shows the server's memory beside its sessions: Prosody 0.12 exports neither
-- (the community's mod_measure_process does; it is not packaged in Debian). Collected at each scrape
-- (statistics_interval = "manual"). Copied into ${RUN}/prosody/plugins by scripts/servers.sh.
module:set_global();

local statsmanager = require "core.statsmanager";
local cpu = statsmanager.metric("counter", "process_cpu", "seconds", "CPU time used by Prosody, from clock(3)."):with_labels();
local rss = statsmanager.metric("gauge", "process_resident_memory", "bytes", "Resident memory size in bytes."):with_labels();
local heap = statsmanager.metric("gauge", "lua_heap", "bytes", "Memory held by the Lua heap."):with_labels();

-- /proc/self/statm counts pages; 4096-byte pages on every platform the load tests run on
local PAGE = 4096;

module:hook("stats-update", function ()
	cpu:set(os.clock());
	heap:set(collectgarbage("count") * 1024);
	local f = io.open("/proc/self/statm");
	if f then
		local _, resident = f:read("*n", "*n");
		f:close();
		if resident then rss:set(resident * PAGE); end
	end
end);
