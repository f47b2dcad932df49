/** Whether a TCP port can be listened on (on every interface, as the shop's gateway and metrics ports listen). */
import net from "node:net";

export function isPortFree(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const srv = net.createServer();
		srv.once("error", () => resolve(false));
		srv.listen(port, "0.0.0.0", () => srv.close(() => resolve(true)));
	});
}
